CREATE FUNCTION queue._sleepers(relid oid)
RETURNS integer
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_sleepers_sql';

COMMENT ON FUNCTION queue._sleepers(oid) IS
'Internal: how many long polls wait on a queue (at most; exact unless another queue''s readers share its wait slot).';
