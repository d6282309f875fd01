CREATE FUNCTION queue._reset_totals(relid oid)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_reset_totals_sql';

COMMENT ON FUNCTION queue._reset_totals(oid) IS
'Internal: start a new queue''s counters from zero (create).';

REVOKE EXECUTE ON FUNCTION queue._reset_totals(oid) FROM PUBLIC;
