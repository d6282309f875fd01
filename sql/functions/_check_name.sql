/* Raise 22023 unless name matches ^[a-z_][a-z0-9_]{0,47}$. */
CREATE FUNCTION queue._check_name(name text, what text DEFAULT 'queue name')
RETURNS void
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_check_name_sql';

COMMENT ON FUNCTION queue._check_name(text, text) IS
'Internal: raise 22023 unless the name matches ^[a-z_][a-z0-9_]{0,47}$.';
