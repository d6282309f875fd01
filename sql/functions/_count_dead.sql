CREATE FUNCTION queue._count_dead(relid oid, n bigint)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_count_dead_sql';

COMMENT ON FUNCTION queue._count_dead(oid, bigint) IS
'Internal (worker): count messages dead-lettered, at commit.';

REVOKE EXECUTE ON FUNCTION queue._count_dead(oid, bigint) FROM PUBLIC;
