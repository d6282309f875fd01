--
-- errors: malformed names, missing queues, bad quantities, negative
-- durations, oversized bodies, bad headers, bad batches, NULL arguments.
--
-- Every failure must raise the documented SQLSTATE (22023 for bad
-- arguments, 42704 for a missing queue) and write nothing: after each group
-- of failing calls the state of every queue, dead letter and archive row,
-- the catalog and the totals is compared with what it was before.
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

SELECT queue.create('e', max_deliveries => 1, retention => '1 day');
SELECT count(*) FROM queue.send_batch('e', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}',
	'{"n": 4}', '{"n": 5}']::jsonb[]);
SELECT count(*) FROM queue.read('e', 3, visibility_timeout => '1 hour');
SELECT queue.ack('e', 1);
SELECT queue.nack('e', 2, reason => 'dead');

-- run one statement; 'ok' or its SQLSTATE only
CREATE FUNCTION pg_temp.sqlstate(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;

-- everything a call could write, as one value
CREATE FUNCTION pg_temp.state() RETURNS text
LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(r::text, ',' ORDER BY r.queue_name) FROM queue.registry r),
		(SELECT string_agg(q::text, ',' ORDER BY q.id) FROM queue.q_e q),
		(SELECT string_agg(d::text, ',' ORDER BY d.id) FROM queue.dl_e d),
		(SELECT string_agg(a::text, ',' ORDER BY a.id) FROM queue.a_e a),
		(SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c
		  WHERE c.relnamespace = 'queue'::regnamespace),
		(SELECT row(s.ready, s.in_flight, s.delayed, s.dead, s.archived,
					s.sent_total, s.acked_total, s.dead_total)::text
		   FROM queue.stats('e', exact => true) s)))
$$;
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats('e', exact => true);
SELECT pg_temp.state() AS base \gset

--
-- malformed names: 22023, for create and for every other function
--
SELECT queue.create(NULL);
SELECT queue.create('');
SELECT queue.create('Upper');
SELECT queue.create('has space');
SELECT queue.create('semi;colon');
\set VERBOSITY sqlstate
SELECT queue.create('Upper');
SELECT queue.create(NULL);
\set VERBOSITY default
SELECT queue.send('Bad', '{}');
\set VERBOSITY terse
SELECT n AS name, pg_temp.try(format('SELECT queue.create(%L)', n)) AS result
  FROM unnest(ARRAY[NULL, '', 'UPPER', 'Upper', 'upPer', 'has space', ' lead',
					'trail ', 'quo''te', 'double"quote', 'semi;colon',
					'x; DROP TABLE queue.registry', '1digit', '9', 'hy-phen',
					'dot.ted', 'tab	tab', 'café', 'ünï', 'q$', 'a/b',
					repeat('a', 49), repeat('_', 49), 'a' || repeat('0', 48),
					repeat('a', 100)]) AS n;
SELECT pg_temp.state() = :'base' AS unchanged;

-- 48 characters and the shortest names are accepted
SELECT queue.create(repeat('a', 48));
SELECT queue.create(repeat('_', 48));
SELECT queue.create('a' || repeat('9', 47));
SELECT queue.create('_');
SELECT queue.create('z');
SELECT queue.create('_0');
SELECT queue.send(repeat('a', 48), '{"long": true}');
SELECT id, body FROM queue.read(repeat('a', 48));
SELECT queue_name, ready, in_flight FROM queue.stats(repeat('a', 48), exact => true);
SELECT length(queue_name) AS len FROM queue.queues
 WHERE length(queue_name) = 48 OR queue_name IN ('_', 'z', '_0')
 ORDER BY len DESC, queue_name;
SELECT queue.drop(queue_name) FROM queue.queues
 WHERE length(queue_name) = 48 OR queue_name IN ('_', 'z', '_0')
 ORDER BY queue_name;
SELECT pg_temp.state() = :'base' AS unchanged;

-- every function checks the name, NULL included
SELECT f AS call, pg_temp.try(format(f, n)) AS result
  FROM unnest(ARRAY[
	'SELECT queue.alter(%L, visibility_timeout => ''1 minute'')',
	'SELECT queue.drop(%L)',
	'SELECT queue.drop(%L, if_exists => true)',
	'SELECT queue.purge(%L)',
	'SELECT queue.send(%L, ''{}'')',
	'SELECT queue.send_batch(%L, ARRAY[''{}'']::jsonb[])',
	'SELECT queue.send_batch(%L, ARRAY[]::jsonb[])',
	'SELECT queue.read(%L)',
	'SELECT queue.pop(%L)',
	'SELECT queue.ack(%L, 3)',
	'SELECT queue.ack(%L, 3, receipt => 1)',
	'SELECT queue.ack(%L, ARRAY[3]::bigint[])',
	'SELECT queue.ack(%L, ARRAY[]::bigint[])',
	'SELECT queue.nack(%L, 3)',
	'SELECT queue.nack(%L, 3, receipt => 1)',
	'SELECT queue.extend(%L, 3, ''1 minute'')',
	'SELECT queue.extend(%L, 3, ''1 minute'', receipt => 1)',
	'SELECT queue.dead_letters(%L)',
	'SELECT queue.redrive(%L)']) AS f,
	   unnest(ARRAY['Bad Name', NULL]) AS n
 ORDER BY n NULLS LAST, f;
SELECT pg_temp.try('SELECT queue.stats(''Bad Name'')') AS stats_bad_name;
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- a queue that does not exist: 42704 from every function
--
SELECT queue.send('nope', '{}');
\set VERBOSITY sqlstate
SELECT queue.send('nope', '{}');
SELECT queue.read('nope');
\set VERBOSITY terse
SELECT f AS call, pg_temp.try(f) AS result
  FROM unnest(ARRAY[
	'SELECT queue.alter(''nope'', visibility_timeout => ''1 minute'')',
	'SELECT queue.alter(''nope'')',
	'SELECT queue.drop(''nope'')',
	'SELECT queue.purge(''nope'')',
	'SELECT queue.send(''nope'', ''{}'')',
	'SELECT queue.send(''nope'', ''{}'', headers => ''{}'', delay => ''1 second'', priority => 2)',
	'SELECT queue.send_batch(''nope'', ARRAY[''{}'']::jsonb[])',
	'SELECT queue.send_batch(''nope'', ARRAY[]::jsonb[])',
	'SELECT queue.read(''nope'')',
	'SELECT queue.read(''nope'', 10, visibility_timeout => ''1 minute'')',
	'SELECT queue.pop(''nope'')',
	'SELECT queue.ack(''nope'', 3)',
	'SELECT queue.ack(''nope'', 3, receipt => 1)',
	'SELECT queue.ack(''nope'', ARRAY[3]::bigint[])',
	'SELECT queue.ack(''nope'', ARRAY[]::bigint[])',
	'SELECT queue.nack(''nope'', 3)',
	'SELECT queue.nack(''nope'', 3, delay => ''1 second'', reason => ''x'')',
	'SELECT queue.nack(''nope'', 3, receipt => 1)',
	'SELECT queue.extend(''nope'', 3, ''1 minute'')',
	'SELECT queue.extend(''nope'', 3, ''1 minute'', receipt => 1)',
	'SELECT queue.dead_letters(''nope'')',
	'SELECT queue.redrive(''nope'')',
	'SELECT queue.redrive(''nope'', quantity => 1)',
	'SELECT queue.stats(''nope'')']) AS f;
SELECT pg_temp.state() = :'base' AS unchanged;
-- only drop with if_exists is quiet
SELECT queue.drop('nope', if_exists => true);

--
-- quantity: 1 .. queue.max_batch
--
SELECT count(*) FROM queue.read('e', 0);
SELECT count(*) FROM queue.read('e', -1);
SELECT count(*) FROM queue.read('e', 1001);
SELECT count(*) FROM queue.pop('e', 0);
SELECT count(*) FROM queue.pop('e', -1);
SELECT count(*) FROM queue.pop('e', 1001);
SELECT count(*) FROM queue.dead_letters('e', 0);
SELECT count(*) FROM queue.dead_letters('e', -1);
SELECT count(*) FROM queue.dead_letters('e', 1001);
SELECT queue.redrive('e', quantity => 0);
SELECT queue.redrive('e', quantity => -1);
\set VERBOSITY sqlstate
SELECT count(*) FROM queue.read('e', 0);
SELECT count(*) FROM queue.pop('e', 1001);
SELECT count(*) FROM queue.dead_letters('e', 0);
SELECT count(*) FROM queue.dead_letters('e', 1001);
SELECT queue.redrive('e', quantity => 0);
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;
SET queue.max_batch = 2;
SELECT count(*) FROM queue.read('e', 3);
SELECT count(*) FROM queue.pop('e', 3);
SELECT count(*) FROM queue.dead_letters('e', 3);
SELECT pg_temp.state() = :'base' AS unchanged;
-- the limit itself is allowed (in a transaction rolled back, to keep the
-- state; reads and pops of a queue made for it, empty: a rolled-back read
-- of e's messages would count as a failed delivery, which the worker
-- writes into them and dead-letters at max_deliveries 1)
BEGIN;
SELECT queue.create('e_limit');
SELECT count(*) FROM queue.read('e_limit', 2);
SELECT count(*) FROM queue.pop('e_limit', 2);
SELECT count(*) FROM queue.dead_letters('e', 2);
ROLLBACK;
RESET queue.max_batch;
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- negative durations, for every interval argument
--
SELECT f AS call, pg_temp.try(f) AS result
  FROM unnest(ARRAY[
	'SELECT queue.create(''neg'', visibility_timeout => ''-1 second'')',
	'SELECT queue.create(''neg'', retry_delay => ''-1 second'')',
	'SELECT queue.create(''neg'', retry_delay => ''0'', retry_delay_max => ''-1 second'')',
	'SELECT queue.create(''neg'', retry_delay_max => ''-1 second'')',
	'SELECT queue.create(''neg'', dedup_window => ''-1 second'')',
	'SELECT queue.create(''neg'', retention => ''-1 second'')',
	'SELECT queue.create(''neg'', retention => ''101 years'')',
	'SELECT queue.create(''neg'', dedup_window => ''200000 years'')',
	'SELECT queue.create(''neg'', visibility_timeout => ''-1 microsecond'')',
	'SELECT queue.create(''neg'', visibility_timeout => ''1 day -25 hours'')',
	'SELECT queue.alter(''e'', visibility_timeout => ''-1 second'')',
	'SELECT queue.alter(''e'', retry_delay => ''-1 second'')',
	'SELECT queue.alter(''e'', retry_delay_max => ''-1 second'')',
	'SELECT queue.alter(''e'', dedup_window => ''-1 second'')',
	'SELECT queue.alter(''e'', retention => ''-1 second'')',
	'SELECT queue.alter(''e'', visibility_timeout => ''1000 years'')',
	'SELECT queue.send(''e'', ''{}'', delay => ''-1 second'')',
	'SELECT queue.send(''e'', ''{}'', delay => ''-1 microsecond'')',
	'SELECT queue.send_batch(''e'', ARRAY[''{}'']::jsonb[], delay => ''-1 second'')',
	'SELECT queue.read(''e'', visibility_timeout => ''-1 second'')',
	'SELECT queue.read(''e'', wait => ''-1 second'')',
	'SELECT queue.nack(''e'', 3, delay => ''-1 second'')',
	'SELECT queue.extend(''e'', 3, ''-1 second'')']) AS f;
SELECT queue.send('e', '{}', delay => '-1 minute');
SELECT count(*) FROM queue.read('e', visibility_timeout => '-1 minute');
SELECT queue.nack('e', 3, delay => '-1 minute');
SELECT queue.nack('e', 3, delay => '-1 minute', receipt => 1);
SELECT queue.extend('e', 3, '-1 minute');
SELECT queue.extend('e', 3, '-1 minute', receipt => 1);
SELECT queue.alter('e', retry_delay_max => '-1 minute');
\set VERBOSITY sqlstate
SELECT queue.send('e', '{}', delay => '-1 minute');
SELECT queue.extend('e', 3, '-1 minute');
SELECT queue.alter('e', retry_delay_max => '-1 minute');
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;
SELECT count(*) AS neg FROM queue.queues WHERE queue_name = 'neg';

--
-- bodies over queue.max_message_size
--
SET queue.max_message_size = 100;
SELECT queue.send('e', jsonb_build_object('pad', repeat('x', 200)));
SELECT queue.send('e', to_jsonb(repeat('x', 200)));
SELECT count(*) FROM queue.send_batch('e',
	ARRAY['{}', jsonb_build_object('pad', repeat('x', 200)), '{}']::jsonb[]);
\set VERBOSITY sqlstate
SELECT queue.send('e', jsonb_build_object('pad', repeat('x', 200)));
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;
-- a small body still fits (rolled back to keep the state)
BEGIN;
SELECT queue.send('e', '{"small": true}') > 0 AS sent;
ROLLBACK;
RESET queue.max_message_size;
-- the same body is accepted under the default limit
BEGIN;
SELECT queue.send('e', jsonb_build_object('pad', repeat('x', 200))) > 0 AS sent;
ROLLBACK;
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- headers must be a JSON object
--
SELECT queue.send('e', '{}', headers => '[]');
SELECT queue.send('e', '{}', headers => '[{"a": 1}]');
SELECT queue.send('e', '{}', headers => '"text"');
SELECT queue.send('e', '{}', headers => '42');
SELECT queue.send('e', '{}', headers => 'true');
SELECT queue.send('e', '{}', headers => 'null');
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  headers => ARRAY['{}', '[1]']::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}']::jsonb[],
									  headers => ARRAY['"x"']::jsonb[]);
\set VERBOSITY sqlstate
SELECT queue.send('e', '{}', headers => '[]');
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- send_batch: too many bodies, arrays of different lengths, NULL bodies,
-- multi-dimensional arrays
--
SET queue.max_batch = 3;
SELECT count(*) FROM queue.send_batch('e', array_fill('{}'::jsonb, ARRAY[4]));
\set VERBOSITY sqlstate
SELECT count(*) FROM queue.send_batch('e', array_fill('{}'::jsonb, ARRAY[4]));
\set VERBOSITY terse
BEGIN;
SELECT count(*) FROM queue.send_batch('e', array_fill('{}'::jsonb, ARRAY[3]));
ROLLBACK;
RESET queue.max_batch;
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  headers => ARRAY['{}']::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  headers => ARRAY['{}', '{}', '{}']::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  idempotency_keys => ARRAY['k1']);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  group_keys => ARRAY['g1', 'g2', 'g3']);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  group_keys => ARRAY[]::text[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY[]::jsonb[],
									  headers => ARRAY['{}']::jsonb[]);
\set VERBOSITY sqlstate
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  idempotency_keys => ARRAY['k1']);
\set VERBOSITY terse
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', NULL, '{}']::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY[NULL]::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', NULL::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', NULL);
SELECT count(*) FROM queue.send_batch('e', '{{"{}", "{}"}, {"{}", "{}"}}'::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  headers => '{{"{}"}, {"{}"}}'::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  idempotency_keys => '{{a}, {b}}'::text[]);
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', '{}']::jsonb[],
									  group_keys => '{{a}, {b}}'::text[]);
\set VERBOSITY sqlstate
SELECT count(*) FROM queue.send_batch('e', ARRAY['{}', NULL]::jsonb[]);
SELECT count(*) FROM queue.send_batch('e', '{{"{}"}, {"{}"}}'::jsonb[]);
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- NULL bodies and ids
--
SELECT queue.send('e', NULL);
SELECT queue.send('e', NULL::jsonb, headers => '{}');
SELECT queue.ack('e', NULL::bigint);
SELECT queue.ack('e', NULL::bigint, receipt => 1);
SELECT queue.ack('e', NULL::bigint[]);
SELECT queue.ack('e', '{{3}, {4}}'::bigint[]);
SELECT queue.nack('e', NULL);
SELECT queue.nack('e', NULL, delay => '1 second', reason => 'x');
SELECT queue.nack('e', NULL, receipt => 1);
SELECT queue.extend('e', NULL, '1 minute');
SELECT queue.extend('e', NULL, '1 minute', receipt => 1);
SELECT queue.extend('e', 3, NULL);
SELECT queue.extend('e', 3, NULL, receipt => 1);
\set VERBOSITY sqlstate
SELECT queue.send('e', NULL);
SELECT queue.ack('e', NULL::bigint);
SELECT queue.ack('e', NULL::bigint[]);
SELECT queue.nack('e', NULL);
SELECT queue.extend('e', NULL, '1 minute');
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;
-- too many ids to ack at once
SET queue.max_batch = 2;
SELECT queue.ack('e', ARRAY[3, 4, 5]::bigint[]);
RESET queue.max_batch;
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- create and alter refuse bad options and write nothing
--
SELECT queue.create('neg', max_deliveries => -1);
SELECT queue.alter('e', max_deliveries => -1);
-- one bad option refuses the whole call: retry_delay is not changed either
SELECT queue.alter('e', retry_delay => '1 hour', retry_delay_max => '-1 minute');
SELECT queue.create('e');
\set VERBOSITY sqlstate
SELECT queue.create('e');
\set VERBOSITY terse
SELECT pg_temp.state() = :'base' AS unchanged;

--
-- calls that find nothing to do are no errors and write nothing either:
-- nack and extend of a message never handed out (4), or of a delivery
-- (message 3 was read once) with a stale receipt.  The queue has
-- max_deliveries 1, so a nack that went through would dead-letter 3.
--
SELECT queue.nack('e', 4) AS nacked;
SELECT queue.nack('e', 4, delay => '1 second', reason => 'x', receipt => 0) AS nacked;
SELECT queue.extend('e', 4, '1 minute') IS NULL AS not_extended;
SELECT queue.nack('e', 3, reason => 'stale', receipt => 2) AS nacked;
SELECT queue.nack('e', 3, reason => 'stale', receipt => 0) AS nacked;
SELECT queue.extend('e', 3, '1 minute', receipt => 2) IS NULL AS not_extended;
SELECT queue.nack('e', 999) AS nacked;
SELECT queue.extend('e', 999, '1 minute') IS NULL AS not_extended;
SELECT pg_temp.state() = :'base' AS unchanged;
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats('e', exact => true);

SELECT queue.drop('e');

--
-- Errors inside the statements the functions run as the extension's owner
-- (here: the catalog lookup of a missing queue), caught by the caller 40
-- times in one transaction: each subtransaction abort gives the caller's
-- identity back and forgets what was switched (more than the 32 nested
-- switches allowed), and the caller's own calls go on working as itself.
--
CREATE ROLE errors_caller;
SELECT queue.create('e2');
SELECT queue.grant('e2', 'errors_caller', 'send');
SET ROLE errors_caller;
DO $$
DECLARE
	caught integer := 0;
BEGIN
	FOR i IN 1 .. 40 LOOP
		BEGIN
			PERFORM queue.send('e2_missing', '{}');
		EXCEPTION WHEN undefined_object THEN
			caught := caught + 1;
			IF current_user <> 'errors_caller' THEN
				RAISE EXCEPTION 'running as % after a caught error', current_user;
			END IF;
		END;
	END LOOP;
	RAISE NOTICE 'caught %, still %, sent %', caught, current_user,
		queue.send('e2', '{}') IS NOT NULL;
END
$$;
SELECT current_user;
RESET ROLE;
SELECT queue.drop('e2');
DROP OWNED BY errors_caller;
DROP ROLE errors_caller;
