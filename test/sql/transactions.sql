--
-- transactions: every function works inside the caller's transaction and
-- is undone by a rollback; the per-backend plan cache follows drops,
-- re-creates and alters at once, rolled back ones included.
--
\set VERBOSITY terse

-- read, nack and extend stamp visible_at with the clock at the call: ts
-- was stamped by a call made after t0 as its clock + d
CREATE FUNCTION pg_temp.clocked(ts timestamptz, t0 timestamptz, d interval)
RETURNS boolean LANGUAGE sql VOLATILE
AS $$ SELECT ts BETWEEN t0 + d AND clock_timestamp() + d $$;

SELECT queue.create('t');

--
-- a send in a rolled-back transaction leaves nothing
--
BEGIN;
SELECT queue.send('t', '{"n": 1}') > 0 AS sent;
SELECT count(*) FROM queue.send_batch('t', ARRAY['{"n": 2}', '{"n": 3}']::jsonb[]);
SELECT queue.send('t', '{"n": 4}', delay => '1 hour') > 0 AS sent;
SELECT ready, in_flight, delayed FROM queue.stats('t', exact => true);
ROLLBACK;
SELECT ready, in_flight, delayed, dead, archived FROM queue.stats('t', exact => true);
SELECT count(*) AS visible FROM queue.read('t', 10);

-- an error later in the transaction takes the send with it
BEGIN;
SELECT queue.send('t', '{"n": 5}') > 0 AS sent;
SELECT 1 / 0;
COMMIT;
SELECT count(*) AS visible FROM queue.read('t', 10);

--
-- a send and the caller's own table write commit or roll back together
--
CREATE TABLE orders (order_id integer PRIMARY KEY, message_id bigint);
BEGIN;
INSERT INTO orders VALUES (1, queue.send('t', '{"order": 1}'));
COMMIT;
BEGIN;
INSERT INTO orders VALUES (2, queue.send('t', '{"order": 2}'));
ROLLBACK;
BEGIN;
SELECT queue.send('t', '{"order": 3}') > 0 AS sent;
INSERT INTO orders VALUES (1, NULL);
COMMIT;
BEGIN;
INSERT INTO orders VALUES (4, NULL);
UPDATE orders SET message_id = queue.send('t', jsonb_build_object('order', order_id))
 WHERE order_id = 4;
COMMIT;
SELECT order_id FROM orders ORDER BY order_id;
CREATE TEMP TABLE delivered AS SELECT id, body FROM queue.read('t', 10);
SELECT d.body, o.order_id
  FROM delivered d LEFT JOIN orders o ON o.message_id = d.id
 ORDER BY d.id;
SELECT queue.ack('t', array_agg(id)) FROM delivered;
DROP TABLE delivered;

--
-- a read in a rolled-back transaction: the message is visible again at
-- once, whatever its visibility timeout
--
SELECT queue.send('t', '{"r": 1}') AS rid \gset
BEGIN;
SELECT id = :rid AS same, body FROM queue.read('t', visibility_timeout => '1 hour');
SELECT count(*) AS visible FROM queue.read('t');
SELECT ready, in_flight FROM queue.stats('t', exact => true);
ROLLBACK;
SELECT ready, in_flight FROM queue.stats('t', exact => true);
SELECT id = :rid AS same, body FROM queue.read('t', visibility_timeout => '1 hour');
-- a read rolled back to a savepoint too
SELECT queue.send('t', '{"r": 2}') AS rid2 \gset
BEGIN;
SAVEPOINT before_read;
SELECT id = :rid2 AS same FROM queue.read('t', visibility_timeout => '1 hour');
ROLLBACK TO SAVEPOINT before_read;
SELECT id = :rid2 AS same FROM queue.read('t', visibility_timeout => '1 hour');
COMMIT;
SELECT count(*) AS visible FROM queue.read('t');

--
-- a savepoint rolled back over an ack brings the message back, in flight
--
BEGIN;
SAVEPOINT before_ack;
SELECT queue.ack('t', :rid);
SELECT in_flight FROM queue.stats('t', exact => true);
ROLLBACK TO SAVEPOINT before_ack;
SELECT in_flight FROM queue.stats('t', exact => true);
SELECT id = :rid AS same, body FROM queue.q_t WHERE id = :rid;
SELECT queue.ack('t', :rid);
COMMIT;
SELECT count(*) AS remaining FROM queue.q_t WHERE id = :rid;

-- the same for an ack of an array, a nack to the dead letters,
-- an extend and a pop
SELECT queue.alter('t', max_deliveries => 1);
BEGIN;
SAVEPOINT s;
SELECT queue.ack('t', ARRAY[:rid2]::bigint[]);
ROLLBACK TO SAVEPOINT s;
SELECT queue.nack('t', :rid2, reason => 'rolled back');
SELECT dead FROM queue.stats('t', exact => true);
ROLLBACK TO SAVEPOINT s;
SELECT queue.extend('t', :rid2, '0') IS NOT NULL AS extended;
SELECT ready, in_flight FROM queue.stats('t', exact => true);
ROLLBACK TO SAVEPOINT s;
SELECT ready, in_flight, dead FROM queue.stats('t', exact => true);
COMMIT;
SELECT count(*) AS dead FROM queue.dead_letters('t');
SELECT queue.send('t', '{"popped": true}') AS pid \gset
BEGIN;
SELECT id = :pid AS same FROM queue.pop('t');
SELECT ready FROM queue.stats('t', exact => true);
ROLLBACK;
SELECT ready FROM queue.stats('t', exact => true);
SELECT id = :pid AS same, body FROM queue.pop('t');
SELECT queue.ack('t', :rid2);

-- with a retention the archive row goes with the rolled-back ack
SELECT queue.alter('t', retention => '1 day');
SELECT queue.send('t', '{"kept": true}') AS kid \gset
SELECT id = :kid AS same FROM queue.read('t');
BEGIN;
SAVEPOINT s;
SELECT queue.ack('t', :kid);
SELECT archived, in_flight FROM queue.stats('t', exact => true);
ROLLBACK TO SAVEPOINT s;
SELECT archived, in_flight FROM queue.stats('t', exact => true);
COMMIT;
SELECT queue.ack('t', :kid);
SELECT archived, in_flight FROM queue.stats('t', exact => true);

-- dead letters and redrive roll back too
BEGIN;
SELECT queue.send('t', '{"doomed": true}') AS did \gset
SELECT id = :did AS same FROM queue.read('t');
SELECT queue.nack('t', :did, reason => 'doomed');
SELECT count(*) AS dead FROM queue.dead_letters('t');
SELECT queue.redrive('t');
SELECT count(*) AS dead FROM queue.dead_letters('t');
ROLLBACK;
SELECT count(*) AS dead FROM queue.dead_letters('t');
SELECT count(*) AS queued FROM queue.q_t;

--
-- the plan cache: drop and re-create with the same name, in this session
--
SELECT queue.create('pc');
-- use every statement once, so that all of them are cached
SELECT queue.send('pc', '{"gen": 1}');
SELECT count(*) FROM queue.send_batch('pc', ARRAY['{"gen": 1}', '{"gen": 1}']::jsonb[]);
SELECT id, body, delivery_count FROM queue.read('pc');
SELECT queue.ack('pc', 1);
SELECT id FROM queue.read('pc');
SELECT queue.ack('pc', 2, receipt => 1);
SELECT id FROM queue.read('pc');
SELECT queue.extend('pc', 3, '1 minute') IS NOT NULL AS extended;
SELECT queue.nack('pc', 3, delay => '0');
SELECT id FROM queue.pop('pc');
SELECT queue.ack('pc', ARRAY[1, 2, 3]::bigint[]);
SELECT queue.drop('pc');
-- the new queue has its own tables, ids and options (here a retention)
SELECT queue.create('pc', retention => '1 day', max_deliveries => 1,
					visibility_timeout => '7 minutes');
SELECT queue.send('pc', '{"gen": 2}');
SELECT count(*) FROM queue.send_batch('pc', ARRAY['{"gen": 2}', '{"gen": 2}']::jsonb[]);
SELECT clock_timestamp() AS t0 \gset
SELECT id, body, delivery_count, pg_temp.clocked(visible_at, :'t0', '7 minutes') AS new_timeout
  FROM queue.read('pc');
SELECT queue.ack('pc', 1);
SELECT id, body FROM queue.a_pc;
SELECT id FROM queue.read('pc');
SELECT queue.nack('pc', 2, reason => 'gen 2');
SELECT id, reason FROM queue.dead_letters('pc');
SELECT id FROM queue.pop('pc');
SELECT count(*) AS archived FROM queue.a_pc;
SELECT queue.extend('pc', 3, '1 minute') IS NULL AS gone;

-- drop and re-create inside one transaction, then use it there
BEGIN;
SELECT queue.drop('pc');
SELECT queue.create('pc', visibility_timeout => '3 minutes');
SELECT queue.send('pc', '{"gen": 3}');
SELECT clock_timestamp() AS t0 \gset
SELECT id, body, pg_temp.clocked(visible_at, :'t0', '3 minutes') AS new_timeout
  FROM queue.read('pc');
SELECT queue.ack('pc', 1);
SELECT count(*) AS archived FROM queue.a_pc;
COMMIT;
SELECT queue_name, ready, in_flight, dead, archived FROM queue.stats('pc', exact => true);

-- even in one statement
SELECT queue.drop('pc'), queue.create('pc'), queue.send('pc', '{"gen": 4}');
SELECT id, body FROM queue.read('pc');

-- a drop rolled back leaves the queue as it was
SELECT queue.send('pc', '{"gen": 4, "n": 2}');
BEGIN;
SELECT queue.drop('pc');
ROLLBACK;
SELECT queue.send('pc', '{"gen": 4, "n": 3}');
SELECT id, body FROM queue.read('pc', 10);
-- a create rolled back leaves nothing behind, and the name can be used again
BEGIN;
SELECT queue.create('ghost', retention => '1 day');
SELECT queue.send('ghost', '{"ghost": 1}');
SELECT id FROM queue.read('ghost');
SELECT queue.ack('ghost', 1);
ROLLBACK;
SELECT queue.send('ghost', '{}');
SELECT queue.create('ghost');
SELECT queue.send('ghost', '{"ghost": 2}');
SELECT id, body FROM queue.read('ghost');
SELECT queue.ack('ghost', 1);
SELECT count(*) AS archived FROM queue.a_ghost;
-- a drop and re-create rolled back to a savepoint
BEGIN;
SAVEPOINT s;
SELECT queue.drop('ghost');
SELECT queue.create('ghost', retention => '1 day');
SELECT queue.send('ghost', '{"ghost": 3}');
ROLLBACK TO SAVEPOINT s;
SELECT queue.send('ghost', '{"ghost": 4}');
SELECT id, body FROM queue.read('ghost');
SELECT queue.ack('ghost', 2);
COMMIT;
SELECT count(*) AS archived FROM queue.a_ghost;
SELECT queue.drop('ghost');

--
-- alter takes effect at once in this session
--
SELECT queue.purge('pc');
SELECT queue.alter('pc', visibility_timeout => '10 minutes');
SELECT queue.send('pc', '{}') AS aid \gset
SELECT clock_timestamp() AS t0 \gset
SELECT id = :aid AS same, pg_temp.clocked(visible_at, :'t0', '10 minutes') AS altered
  FROM queue.read('pc');
SELECT queue.alter('pc', visibility_timeout => '20 minutes');
SELECT queue.nack('pc', :aid, delay => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(visible_at, :'t0', '20 minutes') AS altered FROM queue.read('pc');
-- an explicit timeout still wins
SELECT queue.nack('pc', :aid, delay => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(visible_at, :'t0', '1 minute') AS explicit
  FROM queue.read('pc', visibility_timeout => '1 minute');
-- retention on: ack archives; retention '0': ack deletes again
SELECT queue.alter('pc', retention => '1 hour');
SELECT queue.ack('pc', :aid);
SELECT count(*) AS archived FROM queue.a_pc;
SELECT queue.send('pc', '{}') AS aid \gset
SELECT count(*) FROM queue.read('pc');
SELECT queue.alter('pc', retention => '0');
SELECT queue.ack('pc', :aid);
SELECT count(*) AS archived FROM queue.a_pc;
SELECT count(*) AS queued FROM queue.q_pc;
-- pop follows retention as well
SELECT queue.alter('pc', retention => '1 hour');
SELECT queue.send('pc', '{}') AS aid \gset
SELECT id = :aid AS same FROM queue.pop('pc');
SELECT count(*) AS archived FROM queue.a_pc;
SELECT queue.alter('pc', retention => '0');
SELECT queue.send('pc', '{}') AS aid \gset
SELECT id = :aid AS same FROM queue.pop('pc');
SELECT count(*) AS archived FROM queue.a_pc;
-- max_deliveries and retry_delay too
SELECT queue.send('pc', '{}') AS aid \gset
SELECT count(*) FROM queue.read('pc');
SELECT queue.alter('pc', max_deliveries => 1);
SELECT queue.nack('pc', :aid, reason => 'max 1');
SELECT count(*) AS dead FROM queue.dead_letters('pc');
SELECT queue.alter('pc', max_deliveries => 0, retry_delay => '1 hour',
				   retry_delay_max => '1 hour');
SELECT queue.send('pc', '{}') AS aid \gset
BEGIN;
SELECT count(*) FROM queue.read('pc');
SELECT clock_timestamp() AS t0 \gset
SELECT queue.nack('pc', :aid);
SELECT visible_at >= :'t0'::timestamptz + interval '45 minutes'
	   AND visible_at <= clock_timestamp() + interval '1 hour' AS new_backoff
  FROM queue.q_pc WHERE id = :aid;
COMMIT;

-- an alter in a transaction is seen in it, and undone by its rollback
BEGIN;
SELECT queue.alter('pc', visibility_timeout => '30 minutes');
SELECT queue.send('pc', '{}') AS aid \gset
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(visible_at, :'t0', '30 minutes') AS in_transaction
  FROM queue.read('pc');
ROLLBACK;
SELECT visibility_timeout FROM queue.queues WHERE queue_name = 'pc';
SELECT queue.send('pc', '{}') AS aid \gset
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(visible_at, :'t0', '20 minutes') AS rolled_back
  FROM queue.read('pc');
BEGIN;
SAVEPOINT s;
SELECT queue.alter('pc', visibility_timeout => '40 minutes', retention => '1 day');
SELECT queue.nack('pc', :aid, delay => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(visible_at, :'t0', '40 minutes') AS in_savepoint
  FROM queue.read('pc');
ROLLBACK TO SAVEPOINT s;
SELECT queue.nack('pc', :aid, delay => '0');
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.clocked(visible_at, :'t0', '20 minutes') AS rolled_back
  FROM queue.read('pc');
SELECT queue.ack('pc', :aid);
COMMIT;
SELECT count(*) AS archived FROM queue.a_pc;

SELECT queue.drop('pc');
SELECT queue.drop('t');
DROP TABLE orders;
