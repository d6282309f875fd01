CREATE FUNCTION queue._worker_status()
RETURNS TABLE (dbid oid, pid integer, last_run timestamptz, runs bigint,
			   dead_lettered bigint, purged bigint, forgotten bigint,
			   failures_counted bigint, failures_dropped bigint, last_error text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_worker_status_sql';

COMMENT ON FUNCTION queue._worker_status() IS
'Internal: what each database''s worker did (behind the view queue.worker_status).';
