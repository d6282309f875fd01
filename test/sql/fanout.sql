--
-- fanout: queue.bind, queue.unbind and queue.publish.
--
-- Each queue bound to a topic gets its own copy of what is published there
-- (one queue per consumer group); publish returns how many queues got one.
-- Topic names follow the queue-name rule (22023); naming a queue that does
-- not exist raises 42704; binding twice is a no-op; unbind returns false
-- when there was no such binding; queue.drop removes the queue's bindings.
-- Failing calls write nothing.  Bindings are checked through publish, the
-- public surface: how many copies it makes and where they land.
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

SELECT queue.create('fan_a');
SELECT queue.create('fan_b');
SELECT queue.create('fan_c', ordered => true);

-- the messages of the fan_ queues, as (queue, body) rows
CREATE FUNCTION pg_temp.copies() RETURNS TABLE (queue_name text, id bigint, body jsonb,
	headers jsonb, group_key text, idempotency_key text, delayed boolean)
LANGUAGE sql AS $$
	SELECT 'fan_a', id, body, headers, group_key, idempotency_key, visible_at > now()
	  FROM queue.q_fan_a
	UNION ALL
	SELECT 'fan_b', id, body, headers, group_key, idempotency_key, visible_at > now()
	  FROM queue.q_fan_b
	UNION ALL
	SELECT 'fan_c', id, body, headers, group_key, idempotency_key, visible_at > now()
	  FROM queue.q_fan_c
	 ORDER BY 1, 2
$$;

-- everything a fan-out call could write, as one value
CREATE FUNCTION pg_temp.state() RETURNS text
LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(c::text, ',') FROM pg_temp.copies() c),
		(SELECT string_agg(k::text, ',' ORDER BY k.key) FROM queue.k_fan_a k),
		(SELECT string_agg(k::text, ',' ORDER BY k.key) FROM queue.k_fan_b k),
		(SELECT string_agg(k::text, ',' ORDER BY k.key) FROM queue.k_fan_c k),
		(SELECT string_agg(b::text, ',' ORDER BY b.topic, b.queue_name) FROM queue.bindings b),
		(SELECT string_agg(r.queue_name, ',' ORDER BY r.queue_name) FROM queue.registry r)))
$$;

--
-- nothing bound: publish reaches no queue
--
SELECT queue.publish('orders', '{"o": 0}');
SELECT count(*) AS copies FROM pg_temp.copies();

--
-- bind: each bound queue gets a copy; binding twice is a no-op
--
SELECT queue.bind('orders', 'fan_a');
SELECT queue.bind('orders', 'fan_b');
SELECT queue.bind('orders', 'fan_b');
SELECT queue.publish('orders', '{"o": 1}');
SELECT queue_name, id, body, headers, group_key, idempotency_key, delayed FROM pg_temp.copies();

-- the copies are independent: consuming one leaves the other
SELECT id, body FROM queue.read('fan_a', 10);
SELECT queue.ack('fan_a', 1);
SELECT queue_name, ready, in_flight FROM queue.stats(exact => true) WHERE queue_name LIKE 'fan\_%' ORDER BY 1;
SELECT id, body FROM queue.read('fan_b', 10);
SELECT queue.ack('fan_b', 1);

-- headers, delay and group_key go with every copy
SELECT queue.publish('orders', '{"o": 2}', headers => '{"trace": "t2"}', delay => '1 hour',
					 group_key => 'cust1');
SELECT queue_name, id, body, headers, group_key, idempotency_key, delayed FROM pg_temp.copies();
SELECT queue_name, ready, delayed FROM queue.stats(exact => true) WHERE queue_name LIKE 'fan\_%' ORDER BY 1;
SELECT queue.purge('fan_a'), queue.purge('fan_b');

--
-- a queue bound to two topics gets what is published on either; a topic
-- may have the name of a queue
--
SELECT queue.bind('fan_c', 'fan_c');
SELECT queue.bind('orders', 'fan_c');
SELECT queue.publish('fan_c', '{"only": "c"}');
SELECT queue.publish('orders', '{"all": 3}', group_key => 'g');
SELECT queue_name, body, group_key FROM pg_temp.copies();
SELECT queue.purge('fan_a'), queue.purge('fan_b'), queue.purge('fan_c');

--
-- idempotency_key: each queue deduplicates its copy; a repeated publish
-- enqueues nothing.  Like a repeated send, which returns the first id, it
-- returns what the first publish returned: the number of bound queues,
-- each of which holds its copy under that key.  (API.md says "how many
-- queues received a copy" and is silent on repeats; this is the reading
-- that lets a publisher retry without taking the retry for "nobody
-- listens".)
--
SELECT queue.publish('orders', '{"k": 1}', idempotency_key => 'pk1');
SELECT queue.publish('orders', '{"k": 2}', idempotency_key => 'pk1');
SELECT queue_name, body, idempotency_key FROM pg_temp.copies();
-- even after one queue's copy was consumed
SELECT queue.ack('fan_a', id) FROM queue.read('fan_a', 1);
SELECT queue.publish('orders', '{"k": 3}', idempotency_key => 'pk1');
SELECT queue_name, body, idempotency_key FROM pg_temp.copies();
-- the key of a plain send to one queue is the same key: that queue keeps
-- its message, the others get the published one
SELECT queue.send('fan_b', '{"sent": "directly"}', idempotency_key => 'pk2') AS direct_id \gset
SELECT queue.publish('orders', '{"k": 4}', idempotency_key => 'pk2');
SELECT queue_name, body, idempotency_key
  FROM pg_temp.copies() WHERE idempotency_key = 'pk2';
SELECT body FROM queue.q_fan_b WHERE id = :direct_id;
SELECT queue.purge('fan_a'), queue.purge('fan_b'), queue.purge('fan_c');

--
-- an ordered queue keeps a group's published messages in order
--
SELECT queue.publish('orders', jsonb_build_object('seq', i), group_key => 'grp')
  FROM generate_series(1, 3) i;
SELECT body FROM queue.read('fan_c', 10);
SELECT count(*) AS in_b FROM queue.read('fan_b', 10);
SELECT queue.purge('fan_a'), queue.purge('fan_b'), queue.purge('fan_c');

--
-- publish is transactional: a rollback takes every copy with it
--
BEGIN;
SELECT queue.publish('orders', '{"rolled": "back"}', idempotency_key => 'pk_rb');
SELECT count(*) AS copies_inside FROM pg_temp.copies();
ROLLBACK;
SELECT count(*) AS copies_after FROM pg_temp.copies();
-- and the key was not remembered
SELECT queue.publish('orders', '{"rolled": "again"}', idempotency_key => 'pk_rb');
SELECT queue_name, body FROM pg_temp.copies();
SELECT queue.purge('fan_a'), queue.purge('fan_b'), queue.purge('fan_c');

-- a bind or unbind rolled back is undone too
BEGIN;
SELECT queue.bind('rb_topic', 'fan_a');
SELECT queue.publish('rb_topic', '{}');
ROLLBACK;
SELECT queue.publish('rb_topic', '{}');
BEGIN;
SELECT queue.unbind('orders', 'fan_a');
ROLLBACK;
SELECT queue.publish('orders', '{"still": "bound"}');
SELECT queue.purge('fan_a'), queue.purge('fan_b'), queue.purge('fan_c');

--
-- unbind: true when it removed a binding, false when there was none
--
SELECT queue.unbind('orders', 'fan_b');
SELECT queue.unbind('orders', 'fan_b');
SELECT queue.unbind('no_such_topic', 'fan_b');
SELECT queue.publish('orders', '{"o": 5}');
SELECT queue_name, body FROM pg_temp.copies();
SELECT queue.purge('fan_a'), queue.purge('fan_c');
-- bound again after an unbind
SELECT queue.bind('orders', 'fan_b');
SELECT queue.publish('orders', '{"o": 6}');
SELECT queue.purge('fan_a'), queue.purge('fan_b'), queue.purge('fan_c');

--
-- queue.drop removes the queue's bindings; a queue created again under
-- the name is not bound
--
SELECT queue.drop('fan_b');
SELECT queue.publish('orders', '{"o": 7}');
SELECT count(*) AS bindings_left FROM queue.bindings WHERE queue_name = 'fan_b';
SELECT queue.create('fan_b');
SELECT queue.publish('orders', '{"o": 8}');
SELECT queue_name, body FROM pg_temp.copies();
SELECT queue.purge('fan_a'), queue.purge('fan_c');
-- dropped in a transaction that rolls back: still bound
BEGIN;
SELECT queue.drop('fan_c');
ROLLBACK;
SELECT queue.publish('orders', '{"o": 9}');
SELECT queue.purge('fan_a'), queue.purge('fan_c');

--
-- names: a topic follows the queue-name rule (48 characters at most);
-- bad names raise 22023, unknown queues 42704, and nothing is written
--
SELECT queue.bind(repeat('t', 48), 'fan_a');
SELECT queue.publish(repeat('t', 48), '{"long": "topic"}');
SELECT queue.unbind(repeat('t', 48), 'fan_a');
SELECT queue.purge('fan_a');

SELECT pg_temp.state() AS base \gset
SELECT t AS topic, pg_temp.try(format('SELECT queue.bind(%L, ''fan_a'')', t)) AS bind,
	   pg_temp.try(format('SELECT queue.unbind(%L, ''fan_a'')', t)) AS unbind,
	   pg_temp.try(format('SELECT queue.publish(%L, ''{}'')', t)) AS publish
  FROM unnest(ARRAY[NULL, '', 'Orders', 'ORDERS', 'has space', 'semi;colon', 'quo''te',
					'dot.ted', 'hy-phen', '1topic', 'café', repeat('t', 49)]) AS t;
SELECT pg_temp.state() = :'base' AS nothing_written;

SELECT c AS call, pg_temp.try(c) AS result
  FROM unnest(ARRAY[
	'SELECT queue.bind(''orders'', ''fan_nope'')',
	'SELECT queue.unbind(''orders'', ''fan_nope'')',
	'SELECT queue.bind(''orders'', ''Fan_A'')',
	'SELECT queue.unbind(''orders'', ''Fan_A'')',
	'SELECT queue.bind(''orders'', NULL)',
	'SELECT queue.unbind(''orders'', NULL)',
	'SELECT queue.bind(''orders'', repeat(''q'', 49))'
	]) AS c;
SELECT pg_temp.state() = :'base' AS nothing_written;

-- a publish that fails writes no copy anywhere, nor a key
SELECT c AS call, pg_temp.try(c) AS result
  FROM unnest(ARRAY[
	'SELECT queue.publish(''orders'', NULL)',
	'SELECT queue.publish(''orders'', NULL, idempotency_key => ''bad'')',
	'SELECT queue.publish(''orders'', ''{}'', headers => ''"not an object"'', idempotency_key => ''bad'')',
	'SELECT queue.publish(''orders'', ''{}'', headers => ''[]'')',
	'SELECT queue.publish(''orders'', ''{}'', delay => ''-1 minute'', idempotency_key => ''bad'')',
	'SELECT queue.publish(''orders'', to_jsonb(repeat(''x'', 1100000)), idempotency_key => ''bad'')'
	]) AS c;
SELECT pg_temp.state() = :'base' AS nothing_written;
-- nor one whose statement fails after it
SELECT queue.publish('orders', '{}', idempotency_key => 'bad'), 1 / 0;
SELECT pg_temp.state() = :'base' AS nothing_written;
-- nor one whose last copy fails (a trigger on fan_c refuses it) after the
-- copies for fan_a and fan_b were made
CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'fan_c refuses'; END $$;
CREATE TRIGGER refuse BEFORE INSERT ON queue.q_fan_c
	FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();
SELECT pg_temp.try('SELECT queue.publish(''orders'', ''{"late": "failure"}'', idempotency_key => ''bad'')') AS result;
SELECT pg_temp.state() = :'base' AS nothing_written;
DROP TRIGGER refuse ON queue.q_fan_c;

SELECT queue.drop('fan_a');
SELECT queue.drop('fan_b');
SELECT queue.drop('fan_c');
-- the topic is left with no queue
SELECT queue.publish('orders', '{}');
SELECT count(*) AS bindings_left FROM queue.bindings
 WHERE queue_name IN ('fan_a', 'fan_b', 'fan_c');
