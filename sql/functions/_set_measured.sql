CREATE FUNCTION queue._set_measured(relid oid, ready bigint, in_flight bigint,
	delayed bigint, dead bigint, archived bigint, oldest_ready timestamptz,
	next_change timestamptz, began timestamptz)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_set_measured_sql';

COMMENT ON FUNCTION queue._set_measured(oid, bigint, bigint, bigint, bigint, bigint, timestamptz, timestamptz, timestamptz) IS
'Internal: keep a measurement of the worker''s for queue.stats.';

REVOKE EXECUTE ON FUNCTION queue._set_measured(oid, bigint, bigint, bigint, bigint, bigint, timestamptz, timestamptz, timestamptz) FROM PUBLIC;
