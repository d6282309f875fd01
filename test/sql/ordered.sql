--
-- ordered: queues created with ordered => true hand out the messages of a
-- group_key strictly in id order, at most one per group in flight; a
-- message waits until every earlier message of its group is acked or
-- dead-lettered (a delayed, in-flight or nacked earlier message holds it
-- back).  A NULL group_key is unordered; groups proceed in parallel; an
-- unordered queue ignores group keys.
--
-- Concurrent readers: test/isolation/specs/queue_ordered_*.spec.
--
\set VERBOSITY terse

-- run one statement; 'ok' or SQLSTATE: message
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT queue.create('ord', ordered => true, max_deliveries => 10);
SELECT ordered FROM queue.queues WHERE queue_name = 'ord';

-- ids 1-7: a1 b1 n1 a2 b2 n2 a3 (n: no group)
SELECT * FROM queue.send_batch('ord',
	ARRAY['"a1"', '"b1"', '"n1"', '"a2"', '"b2"', '"n2"', '"a3"']::jsonb[],
	group_keys => ARRAY['a', 'b', NULL, 'a', 'b', NULL, 'a']);

--
-- one read takes the head of each group and every ungrouped message, never
-- two of a group
--
SELECT id, body, group_key, delivery_count FROM queue.read('ord', 10);
-- the heads are in flight: nothing else may go
SELECT count(*) AS handed_out FROM queue.read('ord', 10);
SELECT ready, in_flight FROM queue.stats('ord', exact => true);

-- acking a1 releases a2, and only a2
SELECT queue.ack('ord', 1);
SELECT id, body FROM queue.read('ord', 10);
SELECT count(*) AS handed_out FROM queue.read('ord', 10);

-- a nacked head comes back before the next of its group
SELECT queue.nack('ord', 2, delay => '0');
SELECT id, body, delivery_count FROM queue.read('ord', 10);
-- nacked with a delay, it still holds the group back until it is acked
SELECT queue.nack('ord', 2, delay => '1 hour');
SELECT count(*) AS handed_out FROM queue.read('ord', 10);
SELECT queue.ack('ord', 2);
SELECT id, body FROM queue.read('ord', 10);

-- acking out of order (a3 before a2) is allowed; nothing of group a is left
SELECT queue.ack('ord', 7), queue.ack('ord', 4);
SELECT count(*) AS handed_out FROM queue.read('ord', 10);
SELECT queue.ack('ord', ARRAY[3, 5, 6]::bigint[]);
SELECT ready, in_flight, delayed FROM queue.stats('ord', exact => true);

--
-- a whole group goes strictly in id order, one at a time, while other
-- groups interleave: g (5 messages) and h (2), read one by one
--
CREATE TEMP TABLE got (n serial, id bigint, body jsonb, group_key text);
SELECT count(*) FROM queue.send_batch('ord',
	ARRAY['"g1"', '"g2"', '"h1"', '"g3"', '"g4"', '"h2"', '"g5"']::jsonb[],
	group_keys => ARRAY['g', 'g', 'h', 'g', 'g', 'h', 'g']);
DO $$
DECLARE
	m queue.message;
BEGIN
	FOR i IN 1 .. 10 LOOP
		SELECT * INTO m FROM queue.read('ord', 1);
		EXIT WHEN m.id IS NULL;
		INSERT INTO got (id, body, group_key) VALUES (m.id, m.body, m.group_key);
		PERFORM queue.ack('ord', m.id);
	END LOOP;
END
$$;
SELECT n, body, group_key FROM got ORDER BY n;
SELECT group_key, array_agg(body ORDER BY n) AS in_order FROM got GROUP BY group_key ORDER BY 1;

--
-- a visibility timeout that runs out hands out the same head again, not
-- the next of its group
--
SELECT queue.send('ord', '"c1"', group_key => 'c') AS c1 \gset
SELECT queue.send('ord', '"c2"', group_key => 'c') AS c2 \gset
SELECT body, delivery_count FROM queue.read('ord', 10, visibility_timeout => '0');
SELECT body, delivery_count FROM queue.read('ord', 10, visibility_timeout => '0');
SELECT body, delivery_count FROM queue.read('ord', 10);
SELECT count(*) AS handed_out FROM queue.read('ord', 10);

-- a read whose transaction rolls back leaves the head where it was; the
-- rolled-back delivery counts, as on every queue (delivery_count 2)
SELECT queue.ack('ord', :c1::bigint);
BEGIN;
SELECT body FROM queue.read('ord', 10);
ROLLBACK;
SELECT body, delivery_count FROM queue.read('ord', 10);
SELECT queue.ack('ord', :c2::bigint);

-- pop (at-most-once) takes the heads; the next ones come with the next pop
SELECT count(*) FROM queue.send_batch('ord',
	ARRAY['"p1"', '"q1"', '"p2"', '"q2"', '"p3"']::jsonb[],
	group_keys => ARRAY['p', 'q', 'p', 'q', 'p']);
SELECT body FROM queue.pop('ord', 10);
SELECT body FROM queue.pop('ord', 10);
-- a head in flight holds back pop too
SELECT body FROM queue.read('ord', 10);
SELECT count(*) AS popped FROM queue.pop('ord', 10);
SELECT queue.ack('ord', id) FROM queue.q_ord;
SELECT ready, in_flight, delayed FROM queue.stats('ord', exact => true);

--
-- a delayed earlier message holds its group back; other groups go on
--
SELECT queue.send('ord', '"d1"', group_key => 'd', delay => '1 hour') AS d1 \gset
SELECT queue.send('ord', '"d2"', group_key => 'd') AS d2 \gset
SELECT queue.send('ord', '"e1"', group_key => 'e') AS e1 \gset
SELECT body FROM queue.read('ord', 10);
-- once it is due (here: made visible by hand) it goes first; reads passed
-- it, delayed, and a change made behind the API does not tell them to look
-- again (the backstop does within a minute): tell them here
UPDATE queue.q_ord SET visible_at = now() WHERE id = :d1;
SELECT queue._rewind('queue.q_ord'::regclass, 0, false);
SELECT body FROM queue.read('ord', 10);
SELECT queue.ack('ord', ARRAY[:d1, :e1]::bigint[]);
SELECT body FROM queue.read('ord', 10);
SELECT queue.ack('ord', :d2::bigint);

--
-- priority does not jump the group: a later message of the group with a
-- higher priority waits; across groups priority still orders the read
--
SELECT queue.send('ord', '"f1"', group_key => 'f') AS f1 \gset
SELECT queue.send('ord', '"f2"', group_key => 'f', priority => 9) AS f2 \gset
SELECT queue.send('ord', '"k1"', group_key => 'k', priority => 5) AS k1 \gset
SELECT body, priority FROM queue.read('ord', 10);
SELECT queue.ack('ord', ARRAY[:f1, :k1]::bigint[]);
SELECT body, priority FROM queue.read('ord', 10);
SELECT queue.ack('ord', :f2::bigint);

--
-- a dead-lettered head releases its group: nacked on its last delivery,
-- or timed out on it and moved by the worker (a worker step is run here;
-- until then the head is neither handed out again nor passed)
--
SELECT queue.create('ord_dl', ordered => true, max_deliveries => 1);
SELECT * FROM queue.send_batch('ord_dl', ARRAY['"x1"', '"x2"', '"y1"', '"y2"']::jsonb[],
	group_keys => ARRAY['x', 'x', 'y', 'y']);
SELECT id, body FROM queue.read('ord_dl', 10);
SELECT queue.nack('ord_dl', 1, reason => 'poison');
SELECT id, body, reason FROM queue.dead_letters('ord_dl');
SELECT id, body FROM queue.read('ord_dl', 10);
-- y1 times out on its only delivery (in this transaction, so that the
-- background worker, which skips the locked row, leaves it to the step
-- run here)
BEGIN;
UPDATE queue.q_ord_dl SET visible_at = now() - interval '1 second' WHERE id = 3;
SELECT count(*) AS handed_out FROM queue.read('ord_dl', 10);
-- the timeout was made behind the API, which would have noted when the
-- last delivery comes due: ask for the sweep in this transaction instead
SELECT queue._sweep_at('queue.q_ord_dl'::regclass, '-infinity');
SELECT dead_lettered >= 1 AS moved FROM queue._worker_step(100);
SELECT id, body FROM queue.dead_letters('ord_dl');
SELECT id, body FROM queue.read('ord_dl', 10);
COMMIT;
-- a redriven head is again the oldest of its group: it goes before the
-- rest, once the one in flight is acked
SELECT queue.send('ord_dl', '"y3"', group_key => 'y');
SELECT queue.ack('ord_dl', 4);
SELECT queue.redrive('ord_dl', ids => ARRAY[3]::bigint[]);
SELECT id, body FROM queue.read('ord_dl', 10);
SELECT queue.ack('ord_dl', 3);
SELECT id, body FROM queue.read('ord_dl', 10);
SELECT queue.drop('ord_dl');

--
-- ungrouped messages of an ordered queue are unordered: all go at once
--
SELECT count(*) FROM queue.send_batch('ord', ARRAY['1', '2', '3', '4']::jsonb[]);
SELECT body FROM queue.read('ord', 10);
SELECT queue.purge('ord');

--
-- an unordered queue ignores group keys: several of a group in flight
--
SELECT queue.create('unord');
SELECT * FROM queue.send_batch('unord', ARRAY['"a1"', '"a2"', '"a3"']::jsonb[],
	group_keys => ARRAY['a', 'a', 'a']);
SELECT id, body, group_key FROM queue.read('unord', 10);

--
-- alter: ordered may change only while the queue is empty; the change
-- takes effect at once, cached plans included
--
SELECT pg_temp.try('SELECT queue.alter(''unord'', ordered => true)') AS non_empty;
SELECT ordered FROM queue.queues WHERE queue_name = 'unord';
SELECT queue.purge('unord');
SELECT queue.alter('unord', ordered => true);
SELECT * FROM queue.send_batch('unord', ARRAY['"b1"', '"b2"']::jsonb[],
	group_keys => ARRAY['b', 'b']);
SELECT id, body FROM queue.read('unord', 10);
SELECT count(*) AS handed_out FROM queue.read('unord', 10);
SELECT queue.purge('unord');
SELECT queue.alter('unord', ordered => false);
SELECT count(*) FROM queue.send_batch('unord', ARRAY['"c1"', '"c2"']::jsonb[],
	group_keys => ARRAY['c', 'c']);
SELECT body FROM queue.read('unord', 10);
-- a rolled-back alter leaves the queue as it was
SELECT queue.purge('unord');
BEGIN;
SELECT queue.alter('unord', ordered => true);
ROLLBACK;
SELECT ordered FROM queue.queues WHERE queue_name = 'unord';
SELECT count(*) FROM queue.send_batch('unord', ARRAY['"e1"', '"e2"']::jsonb[],
	group_keys => ARRAY['e', 'e']);
SELECT body FROM queue.read('unord', 10);

-- an ordered queue made in one call works like the others
SELECT queue.create('ord_unlogged', ordered => true, unlogged => true);
SELECT count(*) FROM queue.send_batch('ord_unlogged', ARRAY['1', '2', '3']::jsonb[],
	group_keys => ARRAY['z', 'z', 'w']);
SELECT body, group_key FROM queue.read('ord_unlogged', 10);

SELECT queue.drop('ord');
SELECT queue.drop('unord');
SELECT queue.drop('ord_unlogged');
