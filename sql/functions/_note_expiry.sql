CREATE FUNCTION queue._note_expiry(relid oid, at timestamptz)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_note_expiry_sql';

COMMENT ON FUNCTION queue._note_expiry(oid, timestamptz) IS
'Internal: at commit, the worker looks for expired messages of a queue by then at the latest; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._note_expiry(oid, timestamptz) FROM PUBLIC;
