/* Whether messages of a queue may carry their own expiry (send's ttl), and
 * forgetting it once a scan found none (src/counters.c). */
CREATE FUNCTION queue._expiry_headers(relid oid)
RETURNS bigint
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_expiry_headers_sql';

COMMENT ON FUNCTION queue._expiry_headers(oid) IS
'Internal: 0 when no message of the queue carries an expiry of its own (send''s ttl), so that reads and the worker need not look.';

REVOKE EXECUTE ON FUNCTION queue._expiry_headers(oid) FROM PUBLIC;
