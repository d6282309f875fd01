/* Long polling (src/wait.c): note messages made visible, to wake readers
 * at commit; whether readers sleep on a queue; wake them. */
CREATE FUNCTION queue._count_visible(relid oid, n bigint)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_count_visible_sql';

COMMENT ON FUNCTION queue._count_visible(oid, bigint) IS
'Internal: note messages made visible (redrive), to wake long polls at commit.';

REVOKE EXECUTE ON FUNCTION queue._count_visible(oid, bigint) FROM PUBLIC;
