/* reads must look from id again once this transaction commits (position.c) */
CREATE FUNCTION queue._rewind(relid oid, id bigint, with_head boolean)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_rewind_sql';

COMMENT ON FUNCTION queue._rewind(oid, bigint, boolean) IS
'Internal: at commit, reads must look at a queue''s rows from id again (its read position moves back).';

REVOKE EXECUTE ON FUNCTION queue._rewind(oid, bigint, boolean) FROM PUBLIC;
