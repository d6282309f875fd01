/* Whether name matches ^[a-z_][a-z0-9_]{0,47}$ (src/validate.c): the
 * CHECK constraints of queue.registry and queue.bindings (sql/queue.sql). */
CREATE FUNCTION queue._valid_name(name text)
RETURNS boolean
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_valid_name_sql';

COMMENT ON FUNCTION queue._valid_name(text) IS
'Internal: whether the name matches ^[a-z_][a-z0-9_]{0,47}$; the CHECK constraints of the catalog tables.';
