-- test/pgtap/contract.sql -- the SQL surface of the extension against API.md:
-- names and exact argument types, results, defaults, SECURITY INVOKER and
-- the pinned search_path, the queues view, the message type, the extension's
-- schema, the GUCs and their defaults, and the SQLSTATEs of bad calls.
--
-- Run: pg_prove -h HOST -p PORT -U USER -d DB test/pgtap/contract.sql
-- Everything after CREATE EXTENSION happens in one transaction that is
-- rolled back.

\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS queue;

BEGIN;
-- pg_get_function_arguments prints interval defaults in this style
SET LOCAL IntervalStyle = 'postgres';

SELECT plan(196);

-- Error text of a statement: 'SQLSTATE: message | detail | hint', or NULL
-- when it succeeds.  For checks that throws_ok cannot make (detail, hint).
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text; msg text; detail text; hint text;
BEGIN
	EXECUTE sql;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN state || ': ' || msg || ' | ' || coalesce(detail, '') || ' | ' || coalesce(hint, '');
END
$$;

-- =====================================================================
-- The extension and its schema
-- =====================================================================

SELECT has_schema('queue', 'schema queue exists');
SELECT is((SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'queue'),
		  'queue', 'the extension lives in schema queue');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'queue'),
		  false, 'the extension is not relocatable');

-- =====================================================================
-- Functions: exact argument types
-- =====================================================================

SELECT has_function('queue', 'create',
	ARRAY['text', 'interval', 'integer', 'interval', 'interval', 'interval', 'interval',
		  'boolean', 'boolean', 'boolean', 'integer', 'text', 'interval', 'boolean'],
	'queue.create(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, integer, text, interval, boolean)');
SELECT has_function('queue', 'alter',
	ARRAY['text', 'interval', 'integer', 'interval', 'interval', 'interval', 'interval',
		  'boolean', 'boolean', 'integer', 'text', 'interval', 'boolean'],
	'queue.alter(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean)');
SELECT has_function('queue', 'drop', ARRAY['text', 'boolean'], 'queue.drop(text, boolean)');
SELECT has_function('queue', 'purge', ARRAY['text'], 'queue.purge(text)');
SELECT has_function('queue', 'pause', ARRAY['text'], 'queue.pause(text)');
SELECT has_function('queue', 'resume', ARRAY['text'], 'queue.resume(text)');
SELECT has_function('queue', 'has_queue_privilege', ARRAY['regrole', 'text', 'text'],
	'queue.has_queue_privilege(regrole, text, text)');
SELECT has_function('queue', 'has_queue_privilege', ARRAY['text', 'text'],
	'queue.has_queue_privilege(text, text)');
SELECT has_function('queue', 'send',
	ARRAY['text', 'jsonb', 'jsonb', 'interval', 'text', 'text', 'integer', 'text', 'bigint', 'interval'],
	'queue.send(text, jsonb, jsonb, interval, text, text, integer, text, bigint, interval)');
SELECT has_function('queue', 'send_batch',
	ARRAY['text', 'jsonb[]', 'jsonb[]', 'interval', 'text[]', 'text[]', 'integer', 'interval'],
	'queue.send_batch(text, jsonb[], jsonb[], interval, text[], text[], integer, interval)');
SELECT has_function('queue', 'read', ARRAY['text', 'integer', 'interval', 'interval'],
	'queue.read(text, integer, interval, interval)');
SELECT has_function('queue', 'pop', ARRAY['text', 'integer'], 'queue.pop(text, integer)');
SELECT has_function('queue', 'ack', ARRAY['text', 'bigint', 'integer'],
	'queue.ack(text, bigint, integer)');
SELECT has_function('queue', 'ack', ARRAY['text', 'bigint[]'], 'queue.ack(text, bigint[])');
-- nack and extend take an optional receipt beyond API.md (as ack does); the
-- signatures without it must be gone, or calls would be ambiguous
SELECT has_function('queue', 'nack', ARRAY['text', 'bigint', 'interval', 'text', 'integer'],
	'queue.nack(text, bigint, interval, text, integer)');
SELECT has_function('queue', 'extend', ARRAY['text', 'bigint', 'interval', 'integer'],
	'queue.extend(text, bigint, interval, integer)');
SELECT hasnt_function('queue', 'nack', ARRAY['text', 'bigint', 'interval', 'text'],
	'no queue.nack(text, bigint, interval, text) beside the one with a receipt');
SELECT hasnt_function('queue', 'extend', ARRAY['text', 'bigint', 'interval'],
	'no queue.extend(text, bigint, interval) beside the one with a receipt');
SELECT has_function('queue', 'stats', ARRAY['text', 'boolean'], 'queue.stats(text, boolean)');
SELECT has_function('queue', 'dead_letters', ARRAY['text', 'integer'],
	'queue.dead_letters(text, integer)');
SELECT has_function('queue', 'redrive', ARRAY['text', 'integer', 'bigint[]'],
	'queue.redrive(text, integer, bigint[])');

-- =====================================================================
-- Functions: results
-- =====================================================================

SELECT function_returns('queue', 'create',
	ARRAY['text', 'interval', 'integer', 'interval', 'interval', 'interval', 'interval',
		  'boolean', 'boolean', 'boolean', 'integer', 'text', 'interval', 'boolean'], 'void');
SELECT function_returns('queue', 'alter',
	ARRAY['text', 'interval', 'integer', 'interval', 'interval', 'interval', 'interval',
		  'boolean', 'boolean', 'integer', 'text', 'interval', 'boolean'], 'void');
SELECT function_returns('queue', 'drop', ARRAY['text', 'boolean'], 'boolean');
SELECT function_returns('queue', 'purge', ARRAY['text'], 'bigint');
SELECT function_returns('queue', 'pause', ARRAY['text'], 'boolean');
SELECT function_returns('queue', 'resume', ARRAY['text'], 'boolean');
SELECT function_returns('queue', 'send',
	ARRAY['text', 'jsonb', 'jsonb', 'interval', 'text', 'text', 'integer', 'text', 'bigint', 'interval'],
	'bigint');
SELECT function_returns('queue', 'send_batch',
	ARRAY['text', 'jsonb[]', 'jsonb[]', 'interval', 'text[]', 'text[]', 'integer', 'interval'],
	'setof bigint');
SELECT function_returns('queue', 'read', ARRAY['text', 'integer', 'interval', 'interval'],
	'setof queue.message');
SELECT function_returns('queue', 'pop', ARRAY['text', 'integer'], 'setof queue.message');
SELECT function_returns('queue', 'ack', ARRAY['text', 'bigint', 'integer'], 'boolean');
SELECT function_returns('queue', 'ack', ARRAY['text', 'bigint[]'], 'bigint');
SELECT function_returns('queue', 'nack', ARRAY['text', 'bigint', 'interval', 'text', 'integer'],
	'boolean');
SELECT function_returns('queue', 'extend', ARRAY['text', 'bigint', 'interval', 'integer'],
	'timestamp with time zone');
SELECT function_returns('queue', 'stats', ARRAY['text', 'boolean'], 'setof record');
SELECT function_returns('queue', 'dead_letters', ARRAY['text', 'integer'], 'setof record');
SELECT function_returns('queue', 'redrive', ARRAY['text', 'integer', 'bigint[]'], 'bigint');

-- the columns of the functions that return a table
SELECT is(pg_get_function_result(to_regprocedure('queue.stats(text, boolean)')),
	'TABLE(queue_name text, ready bigint, in_flight bigint, delayed bigint, dead bigint, '
	'archived bigint, oldest_ready_age interval, sent_total bigint, acked_total bigint, '
	'dead_total bigint, as_of timestamp with time zone)',
	'queue.stats returns the contract''s columns');
SELECT is(pg_get_function_result(to_regprocedure('queue.dead_letters(text, integer)')),
	'TABLE(id bigint, body jsonb, headers jsonb, delivery_count integer, '
	'enqueued_at timestamp with time zone, dead_at timestamp with time zone, reason text, '
	'group_key text, idempotency_key text)',
	'queue.dead_letters returns the contract''s columns');

-- =====================================================================
-- Functions: argument names and defaults
-- =====================================================================

SELECT is(pg_get_function_arguments(to_regprocedure(
		'queue.create(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, integer, text, interval, boolean)')),
	'queue_name text, visibility_timeout interval DEFAULT ''00:00:30''::interval, '
	'max_deliveries integer DEFAULT 5, retry_delay interval DEFAULT ''00:00:01''::interval, '
	'retry_delay_max interval DEFAULT ''00:15:00''::interval, '
	'dedup_window interval DEFAULT ''00:05:00''::interval, '
	'retention interval DEFAULT NULL::interval, ordered boolean DEFAULT false, '
	'unlogged boolean DEFAULT false, if_not_exists boolean DEFAULT false, '
	'max_in_flight_per_group integer DEFAULT NULL::integer, dead_letter_queue text DEFAULT NULL::text, '
	'message_ttl interval DEFAULT NULL::interval, drop_expired boolean DEFAULT false',
	'queue.create: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure(
		'queue.alter(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean)')),
	'queue_name text, visibility_timeout interval DEFAULT NULL::interval, '
	'max_deliveries integer DEFAULT NULL::integer, retry_delay interval DEFAULT NULL::interval, '
	'retry_delay_max interval DEFAULT NULL::interval, dedup_window interval DEFAULT NULL::interval, '
	'retention interval DEFAULT NULL::interval, ordered boolean DEFAULT NULL::boolean, '
	'unlogged boolean DEFAULT NULL::boolean, max_in_flight_per_group integer DEFAULT NULL::integer, '
	'dead_letter_queue text DEFAULT NULL::text, message_ttl interval DEFAULT NULL::interval, '
	'drop_expired boolean DEFAULT NULL::boolean',
	'queue.alter: argument names and defaults (NULL keeps the value)');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.drop(text, boolean)')),
	'queue_name text, if_exists boolean DEFAULT false',
	'queue.drop: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.purge(text)')),
	'queue_name text',
	'queue.purge: argument names');
SELECT is(pg_get_function_arguments(to_regprocedure(
		'queue.send(text, jsonb, jsonb, interval, text, text, integer, text, bigint, interval)')),
	'queue_name text, body jsonb, headers jsonb DEFAULT NULL::jsonb, '
	'delay interval DEFAULT NULL::interval, idempotency_key text DEFAULT NULL::text, '
	'group_key text DEFAULT NULL::text, priority integer DEFAULT 0, '
	'producer text DEFAULT NULL::text, producer_seq bigint DEFAULT NULL::bigint, '
	'ttl interval DEFAULT NULL::interval',
	'queue.send: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure(
		'queue.send_batch(text, jsonb[], jsonb[], interval, text[], text[], integer, interval)')),
	'queue_name text, bodies jsonb[], headers jsonb[] DEFAULT NULL::jsonb[], '
	'delay interval DEFAULT NULL::interval, idempotency_keys text[] DEFAULT NULL::text[], '
	'group_keys text[] DEFAULT NULL::text[], priority integer DEFAULT 0, '
	'ttl interval DEFAULT NULL::interval',
	'queue.send_batch: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.read(text, integer, interval, interval)')),
	'queue_name text, quantity integer DEFAULT 1, '
	'visibility_timeout interval DEFAULT NULL::interval, wait interval DEFAULT NULL::interval',
	'queue.read: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.pop(text, integer)')),
	'queue_name text, quantity integer DEFAULT 1',
	'queue.pop: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.ack(text, bigint, integer)')),
	'queue_name text, id bigint, receipt integer DEFAULT NULL::integer',
	'queue.ack(id): argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.ack(text, bigint[])')),
	'queue_name text, ids bigint[]',
	'queue.ack(ids): argument names');
SELECT is(pg_get_function_arguments(to_regprocedure(
		'queue.nack(text, bigint, interval, text, integer)')),
	'queue_name text, id bigint, delay interval DEFAULT NULL::interval, '
	'reason text DEFAULT NULL::text, receipt integer DEFAULT NULL::integer',
	'queue.nack: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.extend(text, bigint, interval, integer)')),
	'queue_name text, id bigint, visibility_timeout interval, receipt integer DEFAULT NULL::integer',
	'queue.extend: argument names and defaults (visibility_timeout has none)');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.stats(text, boolean)')),
	'queue_name text DEFAULT NULL::text, exact boolean DEFAULT false',
	'queue.stats: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.dead_letters(text, integer)')),
	'queue_name text, quantity integer DEFAULT 100',
	'queue.dead_letters: argument names and defaults');
SELECT is(pg_get_function_arguments(to_regprocedure('queue.redrive(text, integer, bigint[])')),
	'queue_name text, quantity integer DEFAULT NULL::integer, ids bigint[] DEFAULT NULL::bigint[]',
	'queue.redrive: argument names and defaults');

-- =====================================================================
-- Functions: SECURITY INVOKER and a pinned search_path
-- =====================================================================

SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace AND p.prosecdef$$,
	'every function in schema queue is SECURITY INVOKER');

-- Functions in SQL or PL/pgSQL pin it with a SET clause.  The C functions
-- of the hot path may pin it in C instead (src/spi_util.c); that is
-- checked by behaviour below.
SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	  JOIN pg_language l ON l.oid = p.prolang
	 WHERE p.pronamespace = 'queue'::regnamespace AND l.lanname <> 'c'
	   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)$$,
	'every SQL and PL/pgSQL function in schema queue has SET search_path = pg_catalog, pg_temp');

SELECT is_empty($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace
	   AND EXISTS (SELECT 1 FROM unnest(p.proconfig) c
				    WHERE c LIKE 'search_path=%'
					  AND c <> 'search_path=pg_catalog, pg_temp')$$,
	'no function in schema queue sets another search_path');

-- Behaviour: a caller whose search_path puts a hostile now() and
-- clock_timestamp() before pg_catalog changes nothing in what the C
-- functions do (send stamps the transaction's start, read, nack and extend
-- the clock).  The queue is new, so its statements are prepared under that
-- search_path.
CREATE SCHEMA tap_hostile;
CREATE FUNCTION tap_hostile.now() RETURNS timestamptz
	LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
CREATE FUNCTION tap_hostile.clock_timestamp() RETURNS timestamptz
	LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
SELECT lives_ok($$SELECT queue.create('tap_pinned')$$, 'create queue tap_pinned');
SET LOCAL search_path = tap_hostile, pg_catalog, public;

SELECT is(now(), '2000-01-01 00:00:00+00'::timestamptz, 'the hostile now() is in effect for the caller');
SELECT is(clock_timestamp(), '2000-01-01 00:00:00+00'::timestamptz,
	'the hostile clock_timestamp() is in effect for the caller');
SELECT is(queue.send('tap_pinned', '{"n": 1}'), 1::bigint, 'send works under a hostile search_path');
SELECT is((SELECT count(*) FROM queue.send_batch('tap_pinned', ARRAY['{"n": 2}', '{"n": 3}']::jsonb[])),
	2::bigint, 'send_batch works under a hostile search_path');
SELECT is((SELECT array_agg(id ORDER BY id) FROM queue.read('tap_pinned', 2, '10 minutes')
		    WHERE visible_at > '2001-01-01' AND enqueued_at > '2001-01-01'),
	ARRAY[1, 2]::bigint[],
	'send and read stamp times with the real clock, not the caller''s now() or clock_timestamp()');
SELECT ok(queue.extend('tap_pinned', 1, '1 hour') > '2001-01-01',
	'extend stamps the real clock');
SELECT ok(queue.extend('tap_pinned', 1, '1 hour', 1) > '2001-01-01',
	'extend with a receipt works under a hostile search_path');
SELECT is(queue.nack('tap_pinned', 2, '1 hour'), true, 'nack works under a hostile search_path');
SELECT is((SELECT array_agg(id) FROM queue.read('tap_pinned', 10)),
	ARRAY[3]::bigint[],
	'a nack delay counts from the real clock: only the untouched message is visible');
SELECT is((SELECT array_agg(id) FROM queue.pop('tap_pinned', 10)), NULL::bigint[],
	'pop sees no visible message either');
SELECT is(queue.ack('tap_pinned', 1, 1), true, 'ack with receipt works under a hostile search_path');
SELECT is(queue.ack('tap_pinned', ARRAY[2, 3]::bigint[]), 2::bigint,
	'ack of an array works under a hostile search_path');
SELECT is(current_schemas(false), ARRAY['tap_hostile', 'pg_catalog', 'public']::name[],
	'the caller''s search path is back after the calls');
SELECT throws_ok($$SELECT queue.send('tap_missing', '{}')$$, '42704',
	'queue "tap_missing" does not exist',
	'send to a missing queue fails under a hostile search_path');
SELECT throws_ok($$SELECT * FROM queue.read('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist',
	'read of a missing queue fails under a hostile search_path');
SELECT is(current_schemas(false), ARRAY['tap_hostile', 'pg_catalog', 'public']::name[],
	'the caller''s search path is back after a failed call');
RESET search_path;
SELECT is(queue.drop('tap_pinned'), true, 'drop queue tap_pinned');

-- =====================================================================
-- The queues view and the message type
-- =====================================================================

SELECT has_view('queue', 'queues', 'view queue.queues exists');
SELECT is((SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
			 FROM pg_attribute a
			WHERE a.attrelid = to_regclass('queue.queues') AND a.attnum > 0 AND NOT a.attisdropped),
	ARRAY['queue_name text', 'created_at timestamp with time zone',
		  'visibility_timeout interval', 'max_deliveries integer', 'retry_delay interval',
		  'retry_delay_max interval', 'dedup_window interval', 'retention interval',
		  'ordered boolean', 'unlogged boolean', 'paused boolean',
		  'max_in_flight_per_group integer', 'dead_letter_queue text',
		  'message_ttl interval', 'drop_expired boolean'],
	'queue.queues has queue_name, created_at, every option of queue.create and paused, with their types');

SELECT has_composite('queue', 'message', 'type queue.message exists');
SELECT is((SELECT array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
			 FROM pg_attribute a
			WHERE a.attrelid = (SELECT typrelid FROM pg_type WHERE oid = to_regtype('queue.message'))
			  AND a.attnum > 0 AND NOT a.attisdropped),
	ARRAY['id bigint', 'body jsonb', 'headers jsonb', 'delivery_count integer',
		  'enqueued_at timestamp with time zone', 'visible_at timestamp with time zone',
		  'group_key text', 'idempotency_key text', 'priority integer'],
	'queue.message has the contract''s columns, in order, with their types');

-- what the view shows for a queue created with the defaults
SELECT lives_ok($$SELECT queue.create('tap_defaults')$$, 'create queue tap_defaults');
SELECT results_eq($$
	SELECT visibility_timeout, max_deliveries, retry_delay, retry_delay_max, dedup_window,
		   retention, ordered, unlogged, created_at = now()
	  FROM queue.queues WHERE queue_name = 'tap_defaults'$$,
	$$VALUES (interval '30 seconds', 5, interval '1 second', interval '15 minutes',
			  interval '5 minutes', NULL::interval, false, false, true)$$,
	'queue.queues shows the defaults of queue.create');
SELECT is(queue.drop('tap_defaults'), true, 'drop queue tap_defaults');

-- =====================================================================
-- Queue names: 22023, with the rule in the error
-- =====================================================================

SELECT throws_ok($$SELECT queue.create(NULL)$$, '22023', NULL, 'create: NULL name is 22023');
SELECT throws_ok($$SELECT queue.create('')$$, '22023', NULL, 'create: empty name is 22023');
SELECT throws_ok($$SELECT queue.create('Orders')$$, '22023', NULL, 'create: upper case is 22023');
SELECT throws_ok($$SELECT queue.create('my queue')$$, '22023', NULL, 'create: a space is 22023');
SELECT throws_ok($$SELECT queue.create('a;drop table x')$$, '22023', NULL, 'create: a semicolon is 22023');
SELECT throws_ok($$SELECT queue.create('a"b')$$, '22023', NULL, 'create: a double quote is 22023');
SELECT throws_ok($$SELECT queue.create('a''b')$$, '22023', NULL, 'create: a single quote is 22023');
SELECT throws_ok($$SELECT queue.create('1abc')$$, '22023', NULL, 'create: a leading digit is 22023');
SELECT throws_ok($$SELECT queue.create('a-b')$$, '22023', NULL, 'create: a hyphen is 22023');
SELECT throws_ok($$SELECT queue.create('é')$$, '22023', NULL, 'create: a non-ASCII letter is 22023');
SELECT throws_ok($$SELECT queue.create(repeat('a', 49))$$, '22023', NULL, 'create: 49 characters is 22023');
SELECT lives_ok($$SELECT queue.create(repeat('a', 48))$$, 'create: 48 characters is accepted');
SELECT is(queue.drop(repeat('a', 48)), true, 'drop: a 48-character queue');
SELECT lives_ok($$SELECT queue.create('_x9')$$, 'create: underscore first, then letters and digits');
SELECT is(queue.drop('_x9'), true, 'drop: queue _x9');
SELECT ok(pg_temp.error_of($$SELECT queue.create('Orders')$$) LIKE '%^[a-z_][a-z0-9_]{0,47}$%',
	'the error for a bad name states the rule');
SELECT ok(pg_temp.error_of($$SELECT queue.create(NULL)$$) LIKE '%^[a-z_][a-z0-9_]{0,47}$%',
	'the error for a NULL name states the rule');
SELECT throws_ok($$SELECT queue.send('Orders', '{}')$$, '22023', NULL, 'send: bad name is 22023');
SELECT throws_ok($$SELECT queue.send_batch('Orders', ARRAY['{}']::jsonb[])$$, '22023', NULL,
	'send_batch: bad name is 22023');
SELECT throws_ok($$SELECT * FROM queue.read('x y')$$, '22023', NULL, 'read: bad name is 22023');
SELECT throws_ok($$SELECT * FROM queue.pop(NULL)$$, '22023', NULL, 'pop: NULL name is 22023');
SELECT throws_ok($$SELECT queue.ack('Orders', 1)$$, '22023', NULL, 'ack: bad name is 22023');
SELECT throws_ok($$SELECT queue.ack('Orders', ARRAY[1]::bigint[])$$, '22023', NULL,
	'ack(ids): bad name is 22023');
SELECT throws_ok($$SELECT queue.nack('Orders', 1)$$, '22023', NULL, 'nack: bad name is 22023');
SELECT throws_ok($$SELECT queue.extend('Orders', 1, '1 minute')$$, '22023', NULL,
	'extend: bad name is 22023');
SELECT throws_ok($$SELECT queue.alter('Orders')$$, '22023', NULL, 'alter: bad name is 22023');
SELECT throws_ok($$SELECT queue.drop('Orders')$$, '22023', NULL, 'drop: bad name is 22023');
SELECT throws_ok($$SELECT queue.purge('Orders')$$, '22023', NULL, 'purge: bad name is 22023');
SELECT throws_ok($$SELECT * FROM queue.stats('Orders')$$, '22023', NULL, 'stats: bad name is 22023');
SELECT throws_ok($$SELECT * FROM queue.dead_letters('Orders')$$, '22023', NULL,
	'dead_letters: bad name is 22023');
SELECT throws_ok($$SELECT queue.redrive('Orders')$$, '22023', NULL, 'redrive: bad name is 22023');

-- =====================================================================
-- Missing queues: 42704 'queue "x" does not exist'
-- =====================================================================

SELECT throws_ok($$SELECT queue.send('tap_missing', '{}')$$, '42704',
	'queue "tap_missing" does not exist', 'send: missing queue');
SELECT throws_ok($$SELECT queue.send_batch('tap_missing', ARRAY['{}']::jsonb[])$$, '42704',
	'queue "tap_missing" does not exist', 'send_batch: missing queue');
SELECT throws_ok($$SELECT * FROM queue.read('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'read: missing queue');
SELECT throws_ok($$SELECT * FROM queue.pop('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'pop: missing queue');
SELECT throws_ok($$SELECT queue.ack('tap_missing', 1)$$, '42704',
	'queue "tap_missing" does not exist', 'ack: missing queue');
SELECT throws_ok($$SELECT queue.ack('tap_missing', 1, 1)$$, '42704',
	'queue "tap_missing" does not exist', 'ack with receipt: missing queue');
SELECT throws_ok($$SELECT queue.ack('tap_missing', ARRAY[1]::bigint[])$$, '42704',
	'queue "tap_missing" does not exist', 'ack(ids): missing queue');
SELECT throws_ok($$SELECT queue.nack('tap_missing', 1)$$, '42704',
	'queue "tap_missing" does not exist', 'nack: missing queue');
SELECT throws_ok($$SELECT queue.extend('tap_missing', 1, '1 minute')$$, '42704',
	'queue "tap_missing" does not exist', 'extend: missing queue');
SELECT throws_ok($$SELECT queue.nack('tap_missing', 1, receipt => 1)$$, '42704',
	'queue "tap_missing" does not exist', 'nack with receipt: missing queue');
SELECT throws_ok($$SELECT queue.extend('tap_missing', 1, '1 minute', receipt => 1)$$, '42704',
	'queue "tap_missing" does not exist', 'extend with receipt: missing queue');
SELECT throws_ok($$SELECT queue.alter('tap_missing', max_deliveries => 3)$$, '42704',
	'queue "tap_missing" does not exist', 'alter: missing queue');
SELECT throws_ok($$SELECT queue.drop('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'drop: missing queue');
SELECT is(queue.drop('tap_missing', if_exists => true), false,
	'drop with if_exists: a missing queue returns false');
SELECT throws_ok($$SELECT queue.purge('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'purge: missing queue');
SELECT throws_ok($$SELECT queue.pause('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'pause: missing queue');
SELECT throws_ok($$SELECT queue.resume('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'resume: missing queue');
SELECT throws_ok($$SELECT queue.pause('Orders')$$, '22023', NULL, 'pause: bad name is 22023');
SELECT throws_ok($$SELECT queue.resume(NULL)$$, '22023', NULL, 'resume: NULL name is 22023');
SELECT throws_ok($$SELECT * FROM queue.stats('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'stats: missing queue');
SELECT throws_ok($$SELECT * FROM queue.dead_letters('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'dead_letters: missing queue');
SELECT throws_ok($$SELECT queue.redrive('tap_missing')$$, '42704',
	'queue "tap_missing" does not exist', 'redrive: missing queue');

-- =====================================================================
-- Duplicates: 42710, unless if_not_exists
-- =====================================================================

SELECT lives_ok($$SELECT queue.create('tap_dup')$$, 'create queue tap_dup');
SELECT throws_ok($$SELECT queue.create('tap_dup')$$, '42710', NULL, 'create: an existing queue is 42710');
SELECT lives_ok($$SELECT queue.create('tap_dup', if_not_exists => true)$$,
	'create with if_not_exists: an existing queue is no error');
SELECT lives_ok($$SELECT queue.create('tap_dup', visibility_timeout => '1 hour', if_not_exists => true)$$,
	'create with if_not_exists and other options: no error');
SELECT is((SELECT visibility_timeout FROM queue.queues WHERE queue_name = 'tap_dup'),
	interval '30 seconds', 'create with if_not_exists leaves the existing queue as it was');
SELECT is(queue.drop('tap_dup'), true, 'drop returns true for an existing queue');
SELECT is((SELECT count(*) FROM queue.queues WHERE queue_name = 'tap_dup'), 0::bigint,
	'a dropped queue is gone from queue.queues');

-- =====================================================================
-- Bad arguments: 22023, and nothing written
-- =====================================================================

SELECT lives_ok($$SELECT queue.create('tap_args')$$, 'create queue tap_args');
SELECT is(queue.send('tap_args', '{"n": 1}'), 1::bigint, 'a message to work with');

SELECT throws_ok($$SELECT * FROM queue.read('tap_args', 0)$$, '22023', NULL, 'read: quantity 0');
SELECT throws_ok($$SELECT * FROM queue.read('tap_args', -1)$$, '22023', NULL, 'read: negative quantity');
SELECT throws_ok($$SELECT * FROM queue.read('tap_args', 1001)$$, '22023', NULL,
	'read: quantity over queue.max_batch');
SELECT lives_ok($$SELECT * FROM queue.read('tap_args', 1000, '0 seconds')$$,
	'read: quantity queue.max_batch is accepted');
SELECT throws_ok($$SELECT * FROM queue.read('tap_args', 1, '-1 second')$$, '22023', NULL,
	'read: negative visibility_timeout');
SELECT throws_ok($$SELECT * FROM queue.read('tap_args', 1, NULL, '-1 second')$$, '22023', NULL,
	'read: negative wait');
SELECT throws_ok($$SELECT * FROM queue.pop('tap_args', 0)$$, '22023', NULL, 'pop: quantity 0');
SELECT throws_ok($$SELECT * FROM queue.pop('tap_args', 1001)$$, '22023', NULL,
	'pop: quantity over queue.max_batch');
SELECT throws_ok($$SELECT queue.send('tap_args', '{}', delay => '-1 second')$$, '22023', NULL,
	'send: negative delay');
SELECT throws_ok($$SELECT queue.send('tap_args', '{}', headers => '[1]')$$, '22023', NULL,
	'send: headers that are not an object');
SELECT throws_ok($$SELECT queue.send_batch('tap_args', ARRAY['{}', '{}']::jsonb[],
						headers => ARRAY['{}']::jsonb[])$$, '22023', NULL,
	'send_batch: headers and bodies of different lengths');
SELECT throws_ok($$SELECT queue.send_batch('tap_args', ARRAY['{}', '{}']::jsonb[],
						headers => ARRAY['{}', '{}', '{}']::jsonb[])$$, '22023',
	'headers and bodies differ in length (3 and 2)',
	'send_batch: the error names both arrays and their lengths');
SELECT throws_ok($$SELECT queue.send_batch('tap_args', ARRAY['{}', '{}']::jsonb[],
						group_keys => ARRAY['a', 'b', 'c'])$$, '22023', NULL,
	'send_batch: group_keys and bodies of different lengths');
SELECT throws_ok($$SELECT queue.send_batch('tap_args', ARRAY['{}', '{}']::jsonb[],
						idempotency_keys => ARRAY['k1'])$$, '22023', NULL,
	'send_batch: idempotency_keys and bodies of different lengths');
SELECT throws_ok($$SELECT queue.send_batch('tap_args',
						(SELECT array_agg('{}'::jsonb) FROM generate_series(1, 1001)))$$,
	'22023', NULL, 'send_batch: more bodies than queue.max_batch');
SELECT throws_ok($$SELECT queue.nack('tap_args', 1, '-1 second')$$, '22023', NULL,
	'nack: negative delay');
SELECT throws_ok($$SELECT queue.extend('tap_args', 1, '-1 second')$$, '22023', NULL,
	'extend: negative visibility_timeout');
SELECT throws_ok($$SELECT queue.create('tap_args_bad', visibility_timeout => '-1 second')$$,
	'22023', NULL, 'create: negative visibility_timeout');
SELECT throws_ok($$SELECT queue.create('tap_args_bad', max_deliveries => -1)$$,
	'22023', NULL, 'create: negative max_deliveries');
SELECT throws_ok($$SELECT queue.create('tap_args_bad', retry_delay => '-1 second')$$,
	'22023', NULL, 'create: negative retry_delay');
SELECT throws_ok($$SELECT queue.create('tap_args_bad', retry_delay_max => '-1 second')$$,
	'22023', 'retry_delay_max must not be negative', 'create: negative retry_delay_max');
SELECT lives_ok($$SELECT queue.create('tap_capped', retry_delay => '1 hour',
										  retry_delay_max => '1 minute')$$,
	'create: retry_delay_max below retry_delay is accepted (it caps every retry)');
SELECT is(queue.drop('tap_capped'), true, 'drop queue tap_capped');
SELECT throws_ok($$SELECT queue.alter('tap_args', visibility_timeout => '-1 second')$$,
	'22023', NULL, 'alter: negative visibility_timeout');
SELECT throws_ok($$SELECT * FROM queue.dead_letters('tap_args', 0)$$, '22023', NULL,
	'dead_letters: quantity 0');
SELECT throws_ok($$SELECT * FROM queue.dead_letters('tap_args', 1001)$$, '22023',
	'quantity must be between 1 and 1000, not 1001',
	'dead_letters: quantity over queue.max_batch');
SELECT throws_ok($$SELECT queue.redrive('tap_args', 0)$$, '22023', NULL, 'redrive: quantity 0');

SET LOCAL queue.max_message_size = 100;
SELECT throws_ok($$SELECT queue.send('tap_args', jsonb_build_object('pad', repeat('x', 200)))$$,
	'22023', NULL, 'send: a body over queue.max_message_size');
SELECT throws_ok($$SELECT queue.send_batch('tap_args',
						ARRAY['{}', jsonb_build_object('pad', repeat('x', 200))])$$,
	'22023', NULL, 'send_batch: one body over queue.max_message_size');
RESET queue.max_message_size;

SELECT is((SELECT count(*) FROM queue.queues WHERE queue_name = 'tap_args_bad'), 0::bigint,
	'no queue was created by the failed calls');
SELECT results_eq($$SELECT ready + in_flight + delayed + dead FROM queue.stats('tap_args')$$,
	ARRAY[1::bigint], 'the failed sends wrote nothing: still one message');
SELECT is(queue.purge('tap_args'), 1::bigint, 'purge returns how many messages it removed');
SELECT is(queue.drop('tap_args'), true, 'drop queue tap_args');

-- =====================================================================
-- A NULL where a value is required: 22023 from every function (the
-- STRICT has_queue_privilege answers NULL instead)
-- =====================================================================

SELECT lives_ok($$SELECT queue.create('tap_null')$$, 'create queue tap_null');
SELECT is_empty($q$
	SELECT call, pg_temp.error_of(call) AS error
	  FROM unnest(ARRAY[
		$$SELECT queue.create(NULL)$$,
		$$SELECT queue.alter(NULL)$$,
		$$SELECT queue.drop(NULL)$$,
		$$SELECT queue.purge(NULL)$$,
		$$SELECT queue.pause(NULL)$$,
		$$SELECT queue.resume(NULL)$$,
		$$SELECT queue.send(NULL, '{}')$$,
		$$SELECT queue.send('tap_null', NULL)$$,
		$$SELECT queue.send_batch(NULL, ARRAY['{}'::jsonb])$$,
		$$SELECT queue.send_batch('tap_null', NULL)$$,
		$$SELECT queue.send_batch('tap_null', ARRAY['{}'::jsonb, NULL])$$,
		$$SELECT * FROM queue.read(NULL)$$,
		$$SELECT * FROM queue.pop(NULL)$$,
		$$SELECT queue.ack(NULL, 1)$$,
		$$SELECT queue.ack('tap_null', NULL::bigint)$$,
		$$SELECT queue.ack('tap_null', NULL::bigint[])$$,
		$$SELECT queue.nack(NULL, 1)$$,
		$$SELECT queue.nack('tap_null', NULL)$$,
		$$SELECT queue.extend(NULL, 1, '1 minute')$$,
		$$SELECT queue.extend('tap_null', NULL, '1 minute')$$,
		$$SELECT queue.extend('tap_null', 1, NULL)$$,
		$$SELECT * FROM queue.dead_letters(NULL)$$,
		$$SELECT * FROM queue.dead_letters('tap_null', NULL)$$,
		$$SELECT queue.redrive(NULL)$$,
		$$SELECT * FROM queue.stats('tap_null', exact => NULL)$$,
		$$SELECT * FROM queue.health(max_ready_age => NULL)$$,
		$$SELECT * FROM queue.health(max_xact_age => NULL)$$,
		$$SELECT queue.bind(NULL, 'tap_null')$$,
		$$SELECT queue.bind('tap_topic', NULL)$$,
		$$SELECT queue.unbind(NULL, 'tap_null')$$,
		$$SELECT queue.unbind('tap_topic', NULL)$$,
		$$SELECT queue.publish(NULL, '{}')$$,
		$$SELECT * FROM queue.producer_gaps(NULL)$$,
		$$SELECT * FROM queue.cluster_stats(NULL)$$,
		$$SELECT queue.grant(NULL, current_user, 'send')$$,
		$$SELECT queue.grant('tap_null', NULL, 'send')$$,
		$$SELECT queue.grant('tap_null', current_user, NULL)$$,
		$$SELECT queue.revoke(NULL, current_user, 'send')$$,
		$$SELECT queue.revoke('tap_null', NULL, 'send')$$,
		$$SELECT queue.revoke('tap_null', current_user, NULL)$$,
		$$SELECT queue._check_access('tap_null', NULL)$$
	  ]) call
	 WHERE pg_temp.error_of(call) IS NULL
		OR pg_temp.error_of(call) NOT LIKE '22023: % must not be NULL%'
		   AND pg_temp.error_of(call) NOT LIKE '22023: %, not NULL%'$q$,
	'every required argument given NULL is 22023, "... must not be NULL"');
SELECT is(queue.has_queue_privilege(NULL, 'send'), NULL,
	'has_queue_privilege is STRICT: NULL in, NULL out');
SELECT is(queue.drop('tap_null'), true, 'drop queue tap_null');

-- =====================================================================
-- The name rule: one definition (src/validate.c) for the functions and
-- for the CHECK constraints of the catalog
-- =====================================================================

SELECT is_empty($$
	SELECT n, queue._valid_name(n)
	  FROM (VALUES ('a', true), ('_', true), ('orders_2', true),
				   (repeat('a', 48), true), (repeat('a', 49), false), ('', false),
				   ('A', false), ('1a', false), ('a-b', false), ('a b', false),
				   ('é', false), ('a;', false)) v(n, ok)
	 WHERE queue._valid_name(n) IS DISTINCT FROM ok$$,
	'_valid_name: a lower-case letter or underscore, then up to 47 more');
SELECT lives_ok($$SELECT queue.create('tap_rule')$$, 'create queue tap_rule');
SELECT throws_ok($$UPDATE queue.registry SET queue_name = 'Tap_rule' WHERE queue_name = 'tap_rule'$$,
	'23514', NULL, 'the registry refuses a name outside the rule, even from its owner');
SELECT throws_ok($$INSERT INTO queue.bindings VALUES ('bad topic', 'tap_rule')$$,
	'23514', NULL, 'the bindings refuse a topic outside the rule');
SELECT is(queue.drop('tap_rule'), true, 'drop queue tap_rule');

-- =====================================================================
-- GUCs and their defaults
-- =====================================================================

SELECT is(current_setting('queue.max_message_size', true), '1MB', 'queue.max_message_size defaults to 1MB');
SELECT is(current_setting('queue.max_batch', true), '1000', 'queue.max_batch defaults to 1000');
SELECT is(current_setting('queue.max_wait', true), '20s', 'queue.max_wait defaults to 20s');
SELECT is(current_setting('queue.worker_interval', true), '1s', 'queue.worker_interval defaults to 1s');
SELECT is(current_setting('queue.worker_batch', true), '1000', 'queue.worker_batch defaults to 1000');
SELECT is(current_setting('queue.worker_enabled', true), 'on', 'queue.worker_enabled defaults to on');

SELECT * FROM finish();
ROLLBACK;
