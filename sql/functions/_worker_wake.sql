CREATE FUNCTION queue._worker_wake()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_worker_wake_sql';

COMMENT ON FUNCTION queue._worker_wake() IS
'Internal: ask the launcher to start this database''s worker once the transaction commits (CREATE EXTENSION).';

REVOKE EXECUTE ON FUNCTION queue._worker_wake() FROM PUBLIC;
