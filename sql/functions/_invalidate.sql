/* Make every backend drop its cached options and plans for a queue. */
CREATE FUNCTION queue._invalidate(queue_name text)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_invalidate_sql';

COMMENT ON FUNCTION queue._invalidate(text) IS
'Internal: make every backend drop its cached options and plans of a queue at commit (alter).';

REVOKE EXECUTE ON FUNCTION queue._invalidate(text) FROM PUBLIC;
