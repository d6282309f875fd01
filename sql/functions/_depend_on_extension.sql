/* Make DROP EXTENSION see a queue's tables (src/catalog.c). */
CREATE FUNCTION queue._depend_on_extension(relid regclass)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_depend_on_extension_sql';

COMMENT ON FUNCTION queue._depend_on_extension(regclass) IS
'Internal: make a queue table depend on the extension, so that DROP EXTENSION sees it.';

REVOKE EXECUTE ON FUNCTION queue._depend_on_extension(regclass) FROM PUBLIC;
