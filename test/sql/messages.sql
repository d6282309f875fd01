--
-- messages: send, send_batch, read, pop, ack, nack, extend, dead letters,
-- redrive, retention and stats.
--
-- Every queue has its own ids, starting at 1.  Times are compared, never
-- shown.  send stamps enqueued_at and visible_at with now(), the start of
-- its transaction, so a delayed send's visible_at is compared exactly with
-- now() + delay.  read, nack and extend measure from the clock at the
-- moment of the call: clock_timestamp() is taken just before the call (t0)
-- and again after it, and the time the call set must lie between
-- t0 + duration and that second clock_timestamp() + duration.
--
\set VERBOSITY terse

-- ts was stamped by a call made after t0 as its clock + d
CREATE FUNCTION pg_temp.clocked(ts timestamptz, t0 timestamptz, d interval)
RETURNS boolean LANGUAGE sql VOLATILE
AS $$ SELECT ts BETWEEN t0 + d AND clock_timestamp() + d $$;

--
-- send: ids increase in send order; headers, group_key, idempotency_key
-- and priority come back as sent; headers NULL when none were sent
--
SELECT queue.create('m');
SELECT queue.send('m', '{"n": 1}');
SELECT queue.send('m', '"a string body"', headers => '{"trace": "abc", "n": 2}');
SELECT queue.send('m', '[1, 2, 3]', group_key => 'g1', idempotency_key => 'k1');
SELECT queue.send('m', 'null', headers => '{}');
SELECT queue.send('m', '{"n": 5}', priority => 0);
SELECT clock_timestamp() AS t0 \gset
SELECT id, body, headers, headers IS NULL AS no_headers, delivery_count,
	   group_key, idempotency_key, priority,
	   enqueued_at <= now() AS enqueued_ok,
	   pg_temp.clocked(visible_at, :'t0', '30 seconds') AS default_visibility
  FROM queue.read('m', 10);
-- all in flight now: nothing more to read
SELECT count(*) AS visible FROM queue.read('m', 10);
SELECT queue.ack('m', ARRAY[1, 2, 3, 4, 5]::bigint[]);

--
-- send with a delay: invisible until now() + delay
--
BEGIN;
SELECT queue.send('m', '{"delayed": true}', delay => '1 hour');
SELECT visible_at = now() + interval '1 hour' AS delayed_until,
	   enqueued_at = now() AS enqueued_now
  FROM queue.q_m WHERE id = 6;
COMMIT;
SELECT count(*) AS visible FROM queue.read('m');
SELECT ready, in_flight, delayed FROM queue.stats('m', exact => true);
-- a zero delay (or NULL) is no delay
SELECT queue.send('m', '{"delayed": false}', delay => '0');
SELECT queue.send('m', '{"delayed": null}', delay => NULL);
SELECT id, body, delivery_count FROM queue.read('m', 10);
SELECT queue.purge('m');

--
-- read: highest priority first, oldest (lowest id) first within a priority
--
SELECT queue.create('prio');
SELECT queue.send('prio', '{"n": 1}');
SELECT queue.send('prio', '{"n": 2}', priority => 5);
SELECT queue.send('prio', '{"n": 3}', priority => -1);
SELECT queue.send('prio', '{"n": 4}', priority => 5);
SELECT queue.send('prio', '{"n": 5}');
SELECT queue.send('prio', '{"n": 6}', priority => 10);
SELECT queue.send('prio', '{"n": 7}', priority => -7);
-- a zero visibility timeout hands them out and leaves them visible
SELECT id, priority, delivery_count FROM queue.read('prio', 10, visibility_timeout => '0');
-- quantity takes from the top, across priorities
SELECT id, priority FROM queue.read('prio', 2);
SELECT id, priority FROM queue.read('prio', 3);
SELECT id, priority FROM queue.read('prio', 10);
SELECT count(*) AS visible FROM queue.read('prio', 10);
SELECT queue.drop('prio');

--
-- read: visibility timeout override, delivery_count increments (the
-- message is read six times: max_deliveries 10 keeps it out of the dead
-- letters)
--
SELECT queue.create('vt', visibility_timeout => '2 minutes', max_deliveries => 10);
SELECT queue.send('vt', '{"n": 1}');
SELECT clock_timestamp() AS t0 \gset
SELECT id, delivery_count, pg_temp.clocked(visible_at, :'t0', '2 minutes') AS queue_default
  FROM queue.read('vt', visibility_timeout => NULL);
SELECT queue.nack('vt', 1, delay => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT id, delivery_count, pg_temp.clocked(visible_at, :'t0', '5 minutes') AS overridden
  FROM queue.read('vt', visibility_timeout => '5 minutes');
SELECT queue.nack('vt', 1, delay => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT id, delivery_count, pg_temp.clocked(visible_at, :'t0', '0') AS zero_timeout
  FROM queue.read('vt', 1, visibility_timeout => '0');
SELECT id, delivery_count FROM queue.read('vt', 1, visibility_timeout => '0');
SELECT id, delivery_count FROM queue.read('vt', 1, visibility_timeout => '0');
-- wait is accepted (and validated) without changing the result
SELECT id, delivery_count FROM queue.read('vt', 1, visibility_timeout => '0', wait => '0');

--
-- send_batch: ids in input order, headers arrays matched by position
--
SELECT queue.create('b');
SELECT n, id FROM queue.send_batch('b',
	ARRAY['{"i": 1}', '{"i": 2}', '{"i": 3}', '{"i": 4}']::jsonb[],
	headers => ARRAY['{"h": 1}', NULL, '{"h": 3}', '{}']::jsonb[],
	idempotency_keys => ARRAY['k1', 'k2', NULL, 'k4'],
	group_keys => ARRAY[NULL, 'g2', 'g3', 'g4']) WITH ORDINALITY AS s(id, n);
SELECT id, body, headers, idempotency_key, group_key, priority, delivery_count
  FROM queue.read('b', 10);
-- the n-th id returned is the n-th body
CREATE TEMP TABLE batch_ids AS
SELECT n, id FROM queue.send_batch('b',
	ARRAY['{"i": 1}', '{"i": 2}', '{"i": 3}', '{"i": 4}', '{"i": 5}']::jsonb[])
	WITH ORDINALITY AS s(id, n);
SELECT count(*) FILTER (WHERE (m.body ->> 'i')::bigint = s.n) AS matched,
	   count(*) AS total,
	   bool_and(s.id = 4 + s.n) AS ids_in_order
  FROM batch_ids s JOIN queue.q_b m ON m.id = s.id;
-- priority and delay apply to the whole batch
BEGIN;
SELECT id FROM queue.send_batch('b', ARRAY['{"p": 1}', '{"p": 2}']::jsonb[],
								delay => '10 minutes', priority => 3) AS s(id);
SELECT id, priority, visible_at = now() + interval '10 minutes' AS delayed
  FROM queue.q_b WHERE id > 9 ORDER BY id;
COMMIT;
-- an empty batch sends nothing
SELECT count(*) AS ids FROM queue.send_batch('b', '{}'::jsonb[]);
SELECT ready, in_flight, delayed FROM queue.stats('b', exact => true);
SELECT queue.drop('b');

--
-- ack: single, with a receipt, an array; unknown ids
--
SELECT queue.create('a');
SELECT count(*) FROM queue.send_batch('a', array_fill('{}'::jsonb, ARRAY[8]));
SELECT id, delivery_count FROM queue.read('a', 1);
SELECT queue.ack('a', 1);
SELECT queue.ack('a', 1);
SELECT queue.ack('a', 999);
-- receipt: the delivery_count the consumer was handed
SELECT id, delivery_count FROM queue.read('a', 1, visibility_timeout => '0');
SELECT id, delivery_count FROM queue.read('a', 1);
-- the first delivery's receipt is stale: false and nothing changes
SELECT queue.ack('a', 2, receipt => 1);
SELECT id, delivery_count FROM queue.q_a WHERE id = 2;
SELECT queue.ack('a', 2, receipt => 3);
SELECT queue.ack('a', 2, receipt => 2);
SELECT queue.ack('a', 2, receipt => 2);
SELECT queue.ack('a', 999, receipt => 1);
-- an array: how many were acked; unknown and repeated ids count once or not at all
SELECT count(*) FROM queue.read('a', 3);
SELECT queue.ack('a', ARRAY[3, 4, 999, 3]::bigint[]);
SELECT queue.ack('a', ARRAY[3, 4]::bigint[]);
SELECT queue.ack('a', ARRAY[]::bigint[]);
SELECT queue.ack('a', ARRAY[5, NULL]::bigint[]);
SELECT array_agg(id ORDER BY id) AS remaining FROM queue.q_a;
SELECT queue.drop('a');

--
-- nack: explicit delay, unknown id
--
SELECT queue.create('n', max_deliveries => 10);
SELECT queue.send('n', '{"n": 1}');
BEGIN;
SELECT id, delivery_count FROM queue.read('n');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('n', 1, delay => '10 minutes');
SELECT pg_temp.clocked(visible_at, :'t0', '10 minutes') AS retry_at,
	   delivery_count
  FROM queue.q_n WHERE id = 1;
COMMIT;
SELECT count(*) AS visible FROM queue.read('n');
SELECT queue.nack('n', 999);
SELECT queue.nack('n', 999, delay => '1 second');
-- a zero delay makes it visible at once; the delivery count goes on
SELECT queue.nack('n', 1, delay => '0');
SELECT id, delivery_count FROM queue.read('n');
-- in one transaction too: the nacked message is read again at once
BEGIN;
SELECT queue.nack('n', 1, delay => '0');
SELECT id, delivery_count FROM queue.read('n');
COMMIT;
SELECT queue.drop('n');

--
-- nack with the default backoff: retry_delay * 2^(delivery_count - 1),
-- capped at retry_delay_max, less a jitter of at most a quarter: visible_at
-- within [t0 + 0.75 d, clock_timestamp() + d], t0 taken before the first
-- nack.  Message k is nacked at its k-th delivery.
--
SELECT queue.create('backoff', retry_delay => '10 seconds',
					retry_delay_max => '1 minute', max_deliveries => 10);
SELECT count(*) FROM queue.send_batch('backoff', array_fill('{}'::jsonb, ARRAY[5]));
BEGIN;
SELECT count(*) FROM queue.read('backoff', 5, visibility_timeout => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('backoff', 1);
SELECT count(*) FROM queue.read('backoff', 5, visibility_timeout => '0');
SELECT queue.nack('backoff', 2);
SELECT count(*) FROM queue.read('backoff', 5, visibility_timeout => '0');
SELECT queue.nack('backoff', 3);
SELECT count(*) FROM queue.read('backoff', 5, visibility_timeout => '0');
SELECT queue.nack('backoff', 4);
SELECT count(*) FROM queue.read('backoff', 5, visibility_timeout => '0');
SELECT queue.nack('backoff', 5);
SELECT m.id, m.delivery_count, d.backoff,
	   m.visible_at >= :'t0'::timestamptz + 0.75 * d.backoff AS not_too_early,
	   m.visible_at <= clock_timestamp() + d.backoff AS not_too_late
  FROM queue.q_backoff m
  JOIN (VALUES (1, interval '10 seconds'), (2, interval '20 seconds'),
			   (3, interval '40 seconds'), (4, interval '1 minute'),
			   (5, interval '1 minute')) AS d(id, backoff) ON d.id = m.id
 ORDER BY m.id;
COMMIT;
-- the jitter spreads messages that failed together
SELECT count(*) FROM queue.send_batch('backoff', array_fill('{}'::jsonb, ARRAY[20]));
BEGIN;
SELECT count(*) FROM queue.read('backoff', 20);
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FILTER (WHERE queue.nack('backoff', id)) AS nacked
  FROM generate_series(6, 25) AS id;
SELECT count(DISTINCT visible_at) > 1 AS jittered,
	   bool_and(visible_at >= :'t0'::timestamptz + interval '7.5 seconds'
				AND visible_at <= clock_timestamp() + interval '10 seconds') AS within_bounds
  FROM queue.q_backoff WHERE id >= 6;
COMMIT;
SELECT queue.drop('backoff');

--
-- retry_delay_max caps every retry delay, the first one included, even
-- when it is below retry_delay; a cap of 0 retries at once
--
SELECT queue.create('capped', retry_delay => '1 hour', retry_delay_max => '1 minute',
					max_deliveries => 10);
SELECT retry_delay, retry_delay_max FROM queue.queues WHERE queue_name = 'capped';
SELECT queue.send('capped', '{}');
SELECT id, delivery_count FROM queue.read('capped');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('capped', 1);
SELECT delivery_count,
	   visible_at >= :'t0'::timestamptz + interval '45 seconds' AS not_too_early,
	   visible_at <= clock_timestamp() + interval '1 minute' AS capped
  FROM queue.q_capped WHERE id = 1;
-- and again at the next delivery
SELECT queue.nack('capped', 1, delay => '0');
SELECT id, delivery_count FROM queue.read('capped');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('capped', 1);
SELECT delivery_count,
	   visible_at >= :'t0'::timestamptz + interval '45 seconds' AS not_too_early,
	   visible_at <= clock_timestamp() + interval '1 minute' AS capped
  FROM queue.q_capped WHERE id = 1;
SELECT queue.alter('capped', retry_delay_max => '0');
SELECT queue.nack('capped', 1, delay => '0');
SELECT id, delivery_count FROM queue.read('capped');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('capped', 1);
SELECT delivery_count, pg_temp.clocked(visible_at, :'t0', '0') AS at_once
  FROM queue.q_capped WHERE id = 1;
SELECT id, delivery_count FROM queue.read('capped');
SELECT queue.drop('capped');

--
-- nack of the last allowed delivery moves the message to the dead letters,
-- with its reason; max_deliveries 0 never dead-letters
--
SELECT queue.create('dl', max_deliveries => 2);
SELECT queue.send('dl', '{"poison": true}', headers => '{"h": 1}',
				  group_key => 'g', idempotency_key => 'k');
SELECT queue.send('dl', '{"poison": false}');
SELECT id, delivery_count FROM queue.read('dl');
SELECT queue.nack('dl', 1, delay => '0', reason => 'first failure');
SELECT id, delivery_count FROM queue.read('dl');
SELECT queue.nack('dl', 1, reason => 'it broke');
SELECT count(*) AS in_queue FROM queue.q_dl WHERE id = 1;
SELECT id, body, headers, delivery_count, reason, group_key, idempotency_key,
	   enqueued_at <= dead_at AS enqueued_before, dead_at <= now() AS dead_ok
  FROM queue.dead_letters('dl');
-- an explicit delay does not save the last delivery; a NULL reason is kept NULL
SELECT id, delivery_count FROM queue.read('dl', visibility_timeout => '0');
SELECT id, delivery_count FROM queue.read('dl');
SELECT queue.nack('dl', 2, delay => '1 second');
SELECT id, delivery_count, reason IS NULL AS no_reason FROM queue.dead_letters('dl');
SELECT queue.nack('dl', 2);
SELECT ready, in_flight, delayed, dead FROM queue.stats('dl', exact => true);
SELECT queue.drop('dl');

SELECT queue.create('forever', max_deliveries => 0);
SELECT queue.send('forever', '{}');
SELECT id, delivery_count, queue.nack('forever', id, delay => '0') FROM queue.read('forever');
SELECT id, delivery_count, queue.nack('forever', id, delay => '0') FROM queue.read('forever');
SELECT id, delivery_count, queue.nack('forever', id, delay => '0') FROM queue.read('forever');
SELECT id, delivery_count, queue.nack('forever', id, delay => '0') FROM queue.read('forever');
SELECT id, delivery_count, queue.nack('forever', id, delay => '0') FROM queue.read('forever');
SELECT id, delivery_count, queue.nack('forever', id, delay => '0') FROM queue.read('forever');
SELECT id, delivery_count FROM queue.q_forever;
SELECT count(*) AS dead FROM queue.dead_letters('forever');
SELECT queue.drop('forever');

--
-- dead_letters and redrive: all, a quantity, given ids; delivery_count
-- starts again at 0
--
SELECT queue.create('rd', max_deliveries => 1);
SELECT count(*) FROM queue.send_batch('rd',
	ARRAY['{"i": 1}', '{"i": 2}', '{"i": 3}', '{"i": 4}', '{"i": 5}', '{"i": 6}']::jsonb[],
	headers => ARRAY['{"h": 1}', NULL, NULL, NULL, NULL, '{"h": 6}']::jsonb[]);
SELECT count(*) FILTER (WHERE queue.nack('rd', id, reason => 'r' || id)) AS dead
  FROM queue.read('rd', 6);
SELECT id, body, headers, delivery_count, reason FROM queue.dead_letters('rd');
SELECT id FROM queue.dead_letters('rd', 2);
SELECT ready, dead FROM queue.stats('rd', exact => true);
-- by ids (unknown ones ignored)
SELECT queue.redrive('rd', ids => ARRAY[4, 999]::bigint[]);
SELECT id, body, delivery_count, visible_at <= now() AS visible FROM queue.q_rd;
SELECT id FROM queue.dead_letters('rd');
-- a redriven message starts over: not handed out, so no nack and no extend
SELECT queue.nack('rd', 4) AS nacked;
SELECT queue.extend('rd', 4, '1 minute') IS NULL AS not_extended;
SELECT id, delivery_count FROM queue.q_rd;
-- by quantity: the oldest first
SELECT queue.redrive('rd', quantity => 2);
SELECT id, delivery_count FROM queue.q_rd ORDER BY id;
-- quantity and ids together
SELECT queue.redrive('rd', quantity => 1, ids => ARRAY[6, 5, 3]::bigint[]);
SELECT id FROM queue.dead_letters('rd');
-- all the rest
SELECT queue.redrive('rd');
SELECT queue.redrive('rd');
SELECT count(*) AS dead FROM queue.dead_letters('rd');
-- redriven messages are whole again: body, headers, enqueued_at kept
SELECT id, body, headers, delivery_count, enqueued_at <= now() AS enqueued_ok
  FROM queue.read('rd', 10);
-- and can die again
SELECT queue.nack('rd', 6, reason => 'again');
SELECT id, delivery_count, reason FROM queue.dead_letters('rd');
SELECT queue.drop('rd');

--
-- extend: the new visible_at, the clock + visibility_timeout
--
SELECT queue.create('ext');
SELECT queue.send('ext', '{}');
BEGIN;
SELECT id, delivery_count FROM queue.read('ext');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.extend('ext', 1, '10 minutes') AS extended_to \gset
SELECT pg_temp.clocked(:'extended_to', :'t0', '10 minutes') AS extended;
SELECT visible_at = :'extended_to' AS stored, delivery_count
  FROM queue.q_ext WHERE id = 1;
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(queue.extend('ext', 1, '0'), :'t0', '0') AS released;
COMMIT;
SELECT id, delivery_count FROM queue.read('ext');
SELECT queue.extend('ext', 999, '1 minute') IS NULL AS unknown_is_null;
SELECT queue.drop('ext');

--
-- nack and extend act on deliveries: only a message that has been handed
-- out can be nacked (and nacked again while it waits for its retry, to
-- change its delay); only a message handed out and not nacked since can be
-- extended.  With a receipt (the delivery_count the consumer was handed)
-- they change nothing once the message has been handed out again.
--
SELECT queue.create('rc', max_deliveries => 10);
SELECT queue.send('rc', '{"n": 1}');
SELECT queue.send('rc', '{"n": 2}');
CREATE TEMP TABLE rc_before AS SELECT * FROM queue.q_rc;
CREATE FUNCTION pg_temp.rc_unchanged() RETURNS boolean LANGUAGE sql AS $$
	SELECT (SELECT string_agg(q::text, ',' ORDER BY q.id) FROM queue.q_rc q)
		 = (SELECT string_agg(b::text, ',' ORDER BY b.id) FROM rc_before b)
$$;
-- never read: nack returns false, extend NULL, whatever the receipt
SELECT queue.nack('rc', 2) AS nacked;
SELECT queue.nack('rc', 2, delay => '1 hour', reason => 'never read') AS nacked;
SELECT queue.nack('rc', 2, receipt => 0) AS nacked;
SELECT queue.extend('rc', 2, '1 hour') IS NULL AS not_extended;
SELECT queue.extend('rc', 2, '1 hour', receipt => 0) IS NULL AS not_extended;
SELECT pg_temp.rc_unchanged() AS unchanged;
SELECT ready, in_flight, delayed FROM queue.stats('rc', exact => true);
-- message 1: first delivery runs out at once, the second one is current
SELECT id, delivery_count FROM queue.read('rc', 1, visibility_timeout => '0');
SELECT id, delivery_count FROM queue.read('rc', 1, visibility_timeout => '1 minute');
DELETE FROM rc_before;
INSERT INTO rc_before SELECT * FROM queue.q_rc;
-- the stale receipt: false and NULL, nothing changes
SELECT queue.nack('rc', 1, delay => '0', receipt => 1) AS nacked;
SELECT queue.nack('rc', 1, receipt => 3) AS nacked;
SELECT queue.extend('rc', 1, '1 hour', receipt => 1) IS NULL AS not_extended;
SELECT queue.extend('rc', 1, '1 hour', receipt => 3) IS NULL AS not_extended;
SELECT pg_temp.rc_unchanged() AS unchanged;
SELECT ready, in_flight, delayed FROM queue.stats('rc', exact => true);
-- the current receipt works
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(queue.extend('rc', 1, '10 minutes', receipt => 2), :'t0',
					   '10 minutes') AS extended;
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('rc', 1, delay => '1 hour', receipt => 2) AS nacked;
SELECT delivery_count, pg_temp.clocked(visible_at, :'t0', '1 hour') AS retry_at
  FROM queue.q_rc WHERE id = 1;
SELECT ready, in_flight, delayed FROM queue.stats('rc', exact => true);
-- waiting for its retry, it is no longer handed out: extend does nothing
DELETE FROM rc_before;
INSERT INTO rc_before SELECT * FROM queue.q_rc;
SELECT queue.extend('rc', 1, '1 minute') IS NULL AS not_extended;
SELECT queue.extend('rc', 1, '1 minute', receipt => 2) IS NULL AS not_extended;
SELECT pg_temp.rc_unchanged() AS unchanged;
-- but a nack again changes its delay, with the current receipt or none
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('rc', 1, delay => '2 hours', receipt => 2) AS nacked;
SELECT delivery_count, pg_temp.clocked(visible_at, :'t0', '2 hours') AS retry_at
  FROM queue.q_rc WHERE id = 1;
SELECT queue.nack('rc', 1, delay => '0', receipt => 1) AS nacked;
SELECT queue.nack('rc', 1, delay => '0') AS nacked;
SELECT id, delivery_count FROM queue.read('rc', 1, visibility_timeout => '0');
-- a delivery whose visibility timeout ran out, not handed out again, can
-- still be extended by its consumer
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(queue.extend('rc', 1, '1 minute', receipt => 3), :'t0',
					   '1 minute') AS extended;
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(queue.extend('rc', 1, '2 minutes'), :'t0', '2 minutes') AS extended;
SELECT ready, in_flight, delayed FROM queue.stats('rc', exact => true);
SELECT queue.ack('rc', 1, receipt => 3) AS acked;
-- message 2 is still untouched: read once, it can be nacked
SELECT id, delivery_count FROM queue.read('rc');
SELECT queue.nack('rc', 2, delay => '0', receipt => 1) AS nacked;
SELECT id, delivery_count FROM queue.read('rc');
SELECT queue.ack('rc', 2) AS acked;
DROP TABLE rc_before;
SELECT queue.drop('rc');

--
-- a stale receipt cannot dead-letter the current delivery
--
SELECT queue.create('rcd', max_deliveries => 2);
SELECT queue.send('rcd', '{}');
SELECT id, delivery_count FROM queue.read('rcd', 1, visibility_timeout => '0');
SELECT id, delivery_count FROM queue.read('rcd', 1, visibility_timeout => '1 hour');
SELECT queue.nack('rcd', 1, reason => 'stale', receipt => 1) AS nacked;
SELECT id, delivery_count FROM queue.q_rcd;
SELECT count(*) AS dead FROM queue.dead_letters('rcd');
SELECT queue.nack('rcd', 1, reason => 'current', receipt => 2) AS nacked;
SELECT count(*) AS queued FROM queue.q_rcd;
SELECT id, delivery_count, reason FROM queue.dead_letters('rcd');
SELECT queue.drop('rcd');

--
-- visibility runs on the clock, not on the transaction's start: in a
-- transaction that began before, read, nack and extend stamp the time of
-- the call, and a visible_at that has passed since the transaction began
-- is visible
--
SELECT queue.create('clock', visibility_timeout => '1 minute', max_deliveries => 0);
SELECT queue.send('clock', '{"n": 1}');
BEGIN;
SELECT pg_sleep(0.01);
SELECT clock_timestamp() AS t0 \gset
SELECT now() < :'t0' AS clock_moved;
SELECT id, pg_temp.clocked(visible_at, :'t0', '1 minute') AS read_clocked,
	   visible_at > now() + interval '1 minute' AS not_from_now
  FROM queue.read('clock');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.extend('clock', 1, '5 minutes') AS extended_to \gset
SELECT pg_temp.clocked(:'extended_to', :'t0', '5 minutes') AS extend_clocked,
	   :'extended_to' > now() + interval '5 minutes' AS not_from_now;
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('clock', 1, delay => '10 minutes');
SELECT pg_temp.clocked(visible_at, :'t0', '10 minutes') AS nack_clocked,
	   visible_at > now() + interval '10 minutes' AS not_from_now
  FROM queue.q_clock WHERE id = 1;
-- send still stamps the transaction's start: this one is due 0.2 s after
-- it, and is read once that has passed, in the same transaction
SELECT queue.send('clock', '{"n": 2}', delay => '0.2 seconds');
SELECT visible_at = now() + interval '0.2 seconds' AS from_now, enqueued_at = now() AS enqueued_now
  FROM queue.q_clock WHERE id = 2;
SELECT pg_sleep(0.3);
SELECT id, body FROM queue.read('clock');
COMMIT;
SELECT queue.drop('clock');

--
-- pop: read and delete in one step, priority first
--
SELECT queue.create('p');
SELECT queue.send('p', '{"n": 1}');
SELECT queue.send('p', '{"n": 2}', priority => 1);
SELECT queue.send('p', '{"n": 3}');
SELECT queue.send('p', '{"n": 4}', delay => '1 hour');
SELECT id, body, delivery_count, priority FROM queue.pop('p', 2);
SELECT id FROM queue.q_p ORDER BY id;
SELECT id, body, delivery_count FROM queue.pop('p');
SELECT count(*) AS popped FROM queue.pop('p', 10);
SELECT ready, in_flight, delayed, archived FROM queue.stats('p', exact => true);
SELECT queue.drop('p');

--
-- retention: ack, ack with receipt, ack of an array and pop archive the
-- message instead of deleting it
--
SELECT queue.create('kept', retention => '1 day');
SELECT count(*) FROM queue.send_batch('kept',
	ARRAY['{"i": 1}', '{"i": 2}', '{"i": 3}', '{"i": 4}', '{"i": 5}', '{"i": 6}']::jsonb[],
	headers => ARRAY['{"h": 1}', NULL, NULL, NULL, NULL, NULL]::jsonb[],
	group_keys => ARRAY['g1', NULL, NULL, NULL, NULL, NULL]);
SELECT count(*) FROM queue.read('kept', 4);
SELECT queue.ack('kept', 1);
SELECT queue.ack('kept', 1);
SELECT queue.ack('kept', 2, receipt => 2);
SELECT queue.ack('kept', 2, receipt => 1);
SELECT queue.ack('kept', ARRAY[3, 4, 999]::bigint[]);
SELECT id FROM queue.pop('kept');
SELECT id, body, headers, delivery_count, group_key,
	   acked_at <= now() AS acked_ok, enqueued_at <= acked_at AS ordered_ok
  FROM queue.a_kept ORDER BY id;
SELECT array_agg(id ORDER BY id) AS still_queued FROM queue.q_kept;
SELECT ready, in_flight, archived FROM queue.stats('kept', exact => true);
-- without a retention, ack deletes
SELECT queue.alter('kept', retention => '0');
SELECT id FROM queue.read('kept');
SELECT queue.ack('kept', 6);
SELECT count(*) AS archived FROM queue.a_kept;
SELECT count(*) AS queued FROM queue.q_kept;
SELECT queue.drop('kept');

--
-- stats: exact counts as the caller sees them, own uncommitted work
-- included; totals never go backwards
--
SELECT queue.create('s', max_deliveries => 1, retention => '1 hour');
SELECT queue.create('s2');
SELECT queue_name, ready, in_flight, delayed, dead, archived,
	   oldest_ready_age IS NULL AS no_age, sent_total, acked_total, dead_total
  FROM queue.stats('s', exact => true);
SELECT queue_name FROM queue.stats(exact => true) WHERE queue_name IN ('m', 's', 's2', 'vt');
SELECT count(*) FROM queue.send_batch('s', array_fill('{}'::jsonb, ARRAY[6]));
SELECT queue.send('s', '{}', delay => '1 hour');
SELECT queue.send('s', '{}', delay => '2 hours');
SELECT count(*) FROM queue.read('s', 3);
SELECT queue.ack('s', 1);
SELECT queue.nack('s', 2);
SELECT queue_name, ready, in_flight, delayed, dead, archived,
	   oldest_ready_age >= interval '0' AS has_age
  FROM queue.stats('s', exact => true);
SELECT sent_total AS sent0, acked_total AS acked0, dead_total AS dead0
  FROM queue.stats('s', exact => true) \gset
SELECT :sent0 >= 8 AS sent_counted, :acked0 >= 1 AS acked_counted,
	   :dead0 >= 1 AS dead_counted;
-- own uncommitted work is counted; after the rollback it is gone
BEGIN;
SELECT count(*) FROM queue.send_batch('s', array_fill('{}'::jsonb, ARRAY[4]));
SELECT queue.send('s', '{}', delay => '1 hour');
SELECT count(*) FROM queue.read('s', 2);
SELECT queue.ack('s', 3);
SELECT queue.nack('s', 4);
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats('s', exact => true);
ROLLBACK;
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats('s', exact => true);
-- a visibility timeout that ran out makes the message ready again
SELECT count(*) FROM queue.read('s', 1, visibility_timeout => '0');
SELECT ready, in_flight FROM queue.stats('s', exact => true);
-- the totals never go backwards: not after a rollback, a purge, more work
SELECT sent_total >= :sent0 AND acked_total >= :acked0 AND dead_total >= :dead0
	   AS monotone
  FROM queue.stats('s', exact => true);
SELECT count(*) FROM queue.pop('s', 2);
SELECT queue.purge('s');
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats('s', exact => true);
SELECT sent_total >= :sent0 AND acked_total > :acked0 AND dead_total >= :dead0
	   AS monotone
  FROM queue.stats('s', exact => true);
SELECT queue.send('s', '{}');
SELECT sent_total > :sent0 AS sent_grew FROM queue.stats('s', exact => true);
-- stats() covers every queue, by name (those of this test are shown)
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats(exact => true)
 WHERE queue_name IN ('m', 's', 's2', 'vt');
SELECT queue_name, ready FROM queue.stats(NULL, exact => true) WHERE queue_name IN ('m', 's', 's2', 'vt');
SELECT queue.drop('s');
SELECT queue.drop('s2');
SELECT queue.drop('m');
SELECT queue.drop('vt');
SELECT count(*) AS queues FROM queue.stats(exact => true) WHERE queue_name IN ('m', 's', 's2', 'vt');
