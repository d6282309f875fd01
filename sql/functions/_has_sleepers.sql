CREATE FUNCTION queue._has_sleepers(relid oid)
RETURNS boolean
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_has_sleepers_sql';

COMMENT ON FUNCTION queue._has_sleepers(oid) IS
'Internal: whether readers may be asleep in a long poll on a message table (worker).';

REVOKE EXECUTE ON FUNCTION queue._has_sleepers(oid) FROM PUBLIC;
