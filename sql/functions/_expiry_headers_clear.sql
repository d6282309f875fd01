CREATE FUNCTION queue._expiry_headers_clear(relid oid, seen bigint)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_expiry_headers_clear_sql';

COMMENT ON FUNCTION queue._expiry_headers_clear(oid, bigint) IS
'Internal: no message of the queue carries an expiry of its own, as of a scan; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._expiry_headers_clear(oid, bigint) FROM PUBLIC;
