CREATE FUNCTION queue._wake(relid oid)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_wake_sql';

COMMENT ON FUNCTION queue._wake(oid) IS
'Internal: wake every long poll of a message table (worker, when messages came due).';

REVOKE EXECUTE ON FUNCTION queue._wake(oid) FROM PUBLIC;
