/* When the worker looks for expired messages of a queue next (src/counters.c):
 * set by the worker, or noted for commit. */
CREATE FUNCTION queue._expire_at(relid oid, at timestamptz)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_expire_at_sql';

COMMENT ON FUNCTION queue._expire_at(oid, timestamptz) IS
'Internal: when the worker looks for expired messages of a queue next (NULL: after the next send); not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._expire_at(oid, timestamptz) FROM PUBLIC;
