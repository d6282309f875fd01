CREATE FUNCTION queue._due_queues(counted oid[], every boolean)
RETURNS TABLE (relid oid, queue_name text, due integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_due_queues_sql';

COMMENT ON FUNCTION queue._due_queues(oid[], boolean) IS
'Internal (worker): the queues this step visits, and for what (bits: 1 sweep, 2 housekeeping, 4 wake, 8 compact).';

REVOKE EXECUTE ON FUNCTION queue._due_queues(oid[], boolean) FROM PUBLIC;
