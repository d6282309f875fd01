/* The worker's last measurement of a queue, and its counters (src/measure.c). */
CREATE FUNCTION queue._measured(relid oid,
	OUT ready bigint, OUT in_flight bigint, OUT delayed bigint, OUT dead bigint,
	OUT archived bigint, OUT oldest_ready_age interval, OUT as_of timestamptz,
	OUT sent_total bigint, OUT acked_total bigint, OUT dead_total bigint)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_measured_sql';

COMMENT ON FUNCTION queue._measured(oid) IS
'Internal: the worker''s last measurement of a queue (NULLs before the first) and its counters. Needs consume or the privileges of pg_read_all_stats.';
