CREATE FUNCTION queue._sweep_at(relid oid, due timestamptz)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_sweep_at_sql';

COMMENT ON FUNCTION queue._sweep_at(oid, timestamptz) IS
'Internal (worker): make a queue''s dead-letter sweep due at a time, unless it is due earlier, at commit.';

REVOKE EXECUTE ON FUNCTION queue._sweep_at(oid, timestamptz) FROM PUBLIC;
