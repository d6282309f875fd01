/*
 * sql/views.sql: the extension's views, each with its grant and comment.
 * Part of the install script (sql/queue.sql) and of every update script
 * (sql/updates/), which recreate them with CREATE OR REPLACE VIEW
 * (tools/assemble).
 *
 * Copyright (c) 2026, the queue authors
 */

/* The queues the caller holds a privilege on (every queue for the owner). */
CREATE VIEW queue.queues AS
	SELECT queue_name, created_at, visibility_timeout, max_deliveries,
		   retry_delay, retry_delay_max, dedup_window, retention, ordered,
		   unlogged, paused, max_in_flight_per_group, dead_letter_queue,
		   message_ttl, drop_expired
	  FROM queue.registry r
	 WHERE queue._may_see(r.queue_name);
GRANT SELECT ON queue.queues TO PUBLIC;

/*
 * queue.stats, one row per queue and metric, for a monitoring system:
 * counters are totals since the server started (a restart starts them
 * again from zero, as Prometheus expects of a counter), gauges are values
 * as of as_of.
 */
CREATE VIEW queue.metrics AS
	SELECT s.queue_name, v.metric, v.kind, v.value, s.as_of
	  FROM queue.stats() s,
		   LATERAL (VALUES
			('messages_ready', 'gauge', s.ready::float8),
			('messages_in_flight', 'gauge', s.in_flight::float8),
			('messages_delayed', 'gauge', s.delayed::float8),
			('dead_letters', 'gauge', s.dead::float8),
			('archived', 'gauge', s.archived::float8),
			('oldest_ready_age_seconds', 'gauge',
			 COALESCE(pg_catalog.date_part('epoch', s.oldest_ready_age), 0)::float8),
			('sent_total', 'counter', s.sent_total::float8),
			('acked_total', 'counter', s.acked_total::float8),
			('dead_total', 'counter', s.dead_total::float8)
		   ) AS v(metric, kind, value);
GRANT SELECT ON queue.metrics TO PUBLIC;
COMMENT ON VIEW queue.metrics IS
'queue.stats() as one row per queue and metric (kind: counter or gauge), for monitoring systems.';

/* What the worker of each database did; one row per database with the
 * extension (as far as the worker knows: a database's row appears after
 * its worker's first step). */
CREATE VIEW queue.worker_status AS
	SELECT d.datname AS database, s.pid, s.last_run, s.runs,
		   s.dead_lettered, s.purged, s.forgotten,
		   s.failures_counted, s.failures_dropped, s.last_error
	  FROM queue._worker_status() s
	  LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;
GRANT SELECT ON queue.worker_status TO PUBLIC;
