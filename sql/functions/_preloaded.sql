/* ---------------------------------------------------------------------
 * The background worker (src/worker.c)
 * ---------------------------------------------------------------------
 */
CREATE FUNCTION queue._preloaded()
RETURNS boolean
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_preloaded_sql';

COMMENT ON FUNCTION queue._preloaded() IS
'Internal: whether the library was loaded by shared_preload_libraries.';
