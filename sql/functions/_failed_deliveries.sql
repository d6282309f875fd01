/*
 * at_least: for deliveries a crash interrupted, the delivery_count the read
 * wrote (src/journal.c); the worker raises the count to
 * greatest(count + failures, at_least + failures).
 */
CREATE FUNCTION queue._failed_deliveries(max integer)
RETURNS TABLE (relid oid, id bigint, failures integer, at_least integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_failed_deliveries_sql';

COMMENT ON FUNCTION queue._failed_deliveries(integer) IS
'Internal (worker): take the pending failed deliveries (reads rolled back, or cut off by a crash: at_least) of up to max messages of this database.';

REVOKE EXECUTE ON FUNCTION queue._failed_deliveries(integer) FROM PUBLIC;
