--
-- groups: max_in_flight_per_group n hands out at most n messages of a
-- group at once (the n oldest still in the queue), in any order; 1 is an
-- ordered queue.  Races of readers are in
-- test/isolation/specs/queue_group_limit.spec.
--
\set VERBOSITY terse

SELECT queue.create('gl', max_in_flight_per_group => 2);
SELECT ordered, max_in_flight_per_group FROM queue.queues WHERE queue_name = 'gl';

SELECT queue.send('gl', jsonb_build_object('m', 'a' || n), group_key => 'a')
  FROM generate_series(1, 4) n;
SELECT count(*) AS sent FROM queue.send_batch('gl',
	ARRAY['{"m": "b1"}', '{"m": "b2"}', '{"m": "b3"}']::jsonb[], group_keys => ARRAY['b', 'b', 'b']);
SELECT queue.send('gl', '{"m": "none"}') > 0 AS sent_without_group;

-- two of each group, and every message without a group
SELECT body->>'m' AS m FROM queue.read('gl', 10) ORDER BY id;
SELECT count(*) AS more FROM queue.read('gl', 10);

-- an ack frees a place in its group: the next one comes
SELECT queue.ack('gl', (SELECT min(id) FROM queue.q_gl WHERE group_key = 'a'));
SELECT body->>'m' AS m FROM queue.read('gl', 10) ORDER BY id;

-- a nacked message keeps its place (it is among the two oldest of b)
SELECT queue.nack('gl', (SELECT min(id) FROM queue.q_gl WHERE group_key = 'b'), delay => '0');
SELECT body->>'m' AS m, delivery_count FROM queue.read('gl', 10) ORDER BY id;

-- pop obeys the limit too
SELECT queue.ack('gl', ARRAY(SELECT id FROM queue.q_gl WHERE group_key = 'b'
                               ORDER BY id LIMIT 2));
SELECT body->>'m' AS m FROM queue.pop('gl', 10) ORDER BY id;

-- another limit: the next reads obey it
SELECT queue.alter('gl', max_in_flight_per_group => 3);
SELECT queue.send('gl', jsonb_build_object('m', 'c' || n), group_key => 'c')
  FROM generate_series(1, 5) n;
SELECT body->>'m' AS m FROM queue.read('gl', 10) ORDER BY id;
SELECT max_in_flight_per_group FROM queue.queues WHERE queue_name = 'gl';

-- 0: no limit
SELECT queue.alter('gl', max_in_flight_per_group => 0);
SELECT ordered, max_in_flight_per_group FROM queue.queues WHERE queue_name = 'gl';
SELECT body->>'m' AS m FROM queue.read('gl', 10) ORDER BY id;

-- ordered is max_in_flight_per_group 1, either way round
SELECT queue.create('gl_ord', ordered => true);
SELECT queue.create('gl_one', max_in_flight_per_group => 1);
SELECT queue_name, ordered, max_in_flight_per_group FROM queue.queues
 WHERE queue_name IN ('gl_ord', 'gl_one') ORDER BY 1;
SELECT queue.alter('gl_one', ordered => false);
SELECT queue.alter('gl_ord', max_in_flight_per_group => 0, ordered => false);
SELECT queue_name, ordered, max_in_flight_per_group FROM queue.queues
 WHERE queue_name IN ('gl_ord', 'gl_one') ORDER BY 1;
SELECT queue.alter('gl_one', max_in_flight_per_group => 1);
SELECT queue_name, ordered, max_in_flight_per_group FROM queue.queues
 WHERE queue_name = 'gl_one';

-- errors: 22023, and nothing changes
SELECT queue.create('gl_bad', max_in_flight_per_group => -1);
SELECT queue.create('gl_bad', ordered => true, max_in_flight_per_group => 2);
SELECT queue.alter('gl', max_in_flight_per_group => -1);
SELECT queue.alter('gl', ordered => true, max_in_flight_per_group => 3);
SELECT queue.alter('gl', ordered => false, max_in_flight_per_group => 1);
SELECT count(*) AS no_bad_queue FROM queue.queues WHERE queue_name = 'gl_bad';
-- becoming ordered (or no longer) needs an empty queue: 55000
SELECT queue.alter('gl', max_in_flight_per_group => 1);
SELECT ordered, max_in_flight_per_group FROM queue.queues WHERE queue_name = 'gl';

SELECT queue.drop('gl');
SELECT queue.drop('gl_ord');
SELECT queue.drop('gl_one');
