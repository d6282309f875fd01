/*
 * One queue's counts, exactly as the caller's snapshot sees them, split by
 * the clock now: a scan of its message, dead-letter and archive tables.
 * Also when the first message not visible now becomes visible (the split
 * changes then).  queue.stats(q, exact => true), and the worker's
 * measurements (src/measure.c).
 */
CREATE FUNCTION queue._count(queue_name text,
	OUT ready bigint, OUT in_flight bigint, OUT delayed bigint, OUT dead bigint,
	OUT archived bigint, OUT oldest_ready timestamptz, OUT next_change timestamptz,
	OUT as_of timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	as_of := clock_timestamp();
	/* the message table is locked first (it comes first), as queue.alter does */
	EXECUTE format(
		'SELECT m.ready, m.in_flight, m.delayed, d.dead, a.archived, m.oldest_ready, '
		'       m.next_change '
		'  FROM (SELECT count(*) FILTER (WHERE visible_at <= $1) AS ready, '
		'               count(*) FILTER (WHERE visible_at > $1 AND leased) AS in_flight, '
		'               count(*) FILTER (WHERE visible_at > $1 AND NOT leased) AS delayed, '
		'               min(enqueued_at) FILTER (WHERE visible_at <= $1) AS oldest_ready, '
		'               min(visible_at) FILTER (WHERE visible_at > $1) AS next_change '
		'          FROM queue.%1$I) m, '
		'       (SELECT count(*) AS dead FROM queue.%2$I) d, '
		'       (SELECT count(*) AS archived FROM queue.%3$I) a',
		'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name)
		INTO ready, in_flight, delayed, dead, archived, oldest_ready, next_change
		USING as_of;
END
$$;

COMMENT ON FUNCTION queue._count(text) IS
'Internal: one queue''s counts by state, exactly as the caller''s snapshot sees them (a scan), and when the split changes next.';
