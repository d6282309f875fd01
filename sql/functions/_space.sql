/* The size of a queue's message table and its share of free space, and
 * how many long polls wait on it, for queue.health (src/schedule.c,
 * src/wait.c). */
CREATE FUNCTION queue._space(relid oid, OUT heap_bytes bigint, OUT free_share float8)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_space_sql';

COMMENT ON FUNCTION queue._space(oid) IS
'Internal: the size of a queue''s message table and the share of it that is free space, measured on 64 pages. Needs consume.';
