-- test/pgtap/privileges.sql -- per-queue privileges and hardening (issue 6,
-- RELIABILITY.md's security checklist):
--
--   1. the install script against a schema queue planted before it (in a
--      throwaway database, before the transaction below);
--   2. the privilege matrix: producer (send on priv_a), consumer (consume
--      on priv_a), manager (manage on priv_a, given with queue.grant),
--      creator (CREATE on schema queue, creates priv_c) and stranger
--      (nothing), against every public function and every underlying table
--      of the queues priv_a, priv_b and priv_c;
--   3. queue.grant and queue.revoke: what they grant, what revoking keeps,
--      their errors, the owner;
--   4. what PUBLIC may execute and read, SECURITY INVOKER and pinned
--      search paths, ownership of everything in schema queue;
--   5. injection through every text argument: queue and topic names, role
--      names, privileges, keys, group keys, producers, reasons, headers;
--   6. objects planted in schema queue by a role that may create queues;
--   7. queue privileges are not table privileges (issue 12): the three
--      attacks, has_queue_privilege, what each role sees, role membership,
--      DROP OWNED and DROP ROLE.
--
-- Run: pg_prove -d DB test/pgtap/privileges.sql, as a superuser that may
-- create databases (test/run-all.sh does).  Everything after the install
-- probe happens in one transaction that is rolled back; the roles it
-- creates go with it.

\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS queue;

-- =====================================================================
-- 1. The install script against a planted schema queue
--
-- CREATE EXTENSION needs a database of its own here: a throwaway one.
-- Each case sets up the schema, runs CREATE EXTENSION queue and rolls
-- everything back (roles included), so no worker is ever started for it.
-- The results travel back in psql variables and are checked after plan().
-- =====================================================================

SELECT current_database() AS tap_db, current_database() || '_install_probe' AS tap_probe_db \gset
DROP DATABASE IF EXISTS :"tap_probe_db" WITH (FORCE);
CREATE DATABASE :"tap_probe_db" TEMPLATE template0;
\connect :"tap_probe_db"
SET client_min_messages = warning;

-- 'ok' if CREATE EXTENSION queue succeeds after setup, else
-- 'SQLSTATE: message'; undoes both either way.
CREATE FUNCTION pg_temp.install_after(setup text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
BEGIN
	EXECUTE setup;
	CREATE EXTENSION queue;
	RAISE EXCEPTION 'undo' USING ERRCODE = 'TAPOK';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	IF state = 'TAPOK' THEN
		RETURN 'ok';
	END IF;
	RETURN state || ': ' || msg;
END
$$;

SELECT
	pg_temp.install_after('SELECT 1') AS install_fresh,
	pg_temp.install_after('CREATE SCHEMA queue') AS install_own_empty,
	pg_temp.install_after($$CREATE ROLE tap_planter;
		CREATE SCHEMA queue AUTHORIZATION tap_planter$$) AS install_foreign,
	pg_temp.install_after(format($$CREATE ROLE tap_planter; GRANT tap_planter TO %I;
		CREATE SCHEMA queue AUTHORIZATION tap_planter$$, current_user)) AS install_member,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE TABLE queue.registry (queue_name text)$$) AS install_table,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE VIEW queue.queues AS SELECT 1 AS x$$) AS install_view,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE FUNCTION queue.send(text, text) RETURNS bigint
		LANGUAGE sql AS 'SELECT 1::bigint'$$) AS install_function,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE TYPE queue.message AS (x int)$$) AS install_type,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE DOMAIN queue.tap_domain AS int$$) AS install_domain,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE OPERATOR queue.=== (FUNCTION = pg_catalog.int4eq,
								   LEFTARG = int, RIGHTARG = int)$$) AS install_operator,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE COLLATION queue.tap_c (LOCALE = 'C')$$) AS install_collation,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE TEXT SEARCH CONFIGURATION queue.tap_ts (COPY = pg_catalog.simple)$$) AS install_ts,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE CONVERSION queue.tap_conv FOR 'LATIN1' TO 'UTF8'
		FROM pg_catalog.iso8859_1_to_utf8$$) AS install_conversion,
	pg_temp.install_after($$CREATE SCHEMA queue;
		CREATE OPERATOR FAMILY queue.tap_opf USING btree$$) AS install_opfamily,
	pg_temp.install_after($$CREATE SCHEMA queue;
		GRANT CREATE ON SCHEMA queue TO PUBLIC$$) AS install_public_create,
	pg_temp.install_after($$CREATE ROLE tap_planter; CREATE SCHEMA queue;
		GRANT CREATE ON SCHEMA queue TO tap_planter$$) AS install_role_create,
	(SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'queue') AS install_left_schemas,
	(SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = 'tap_planter') AS install_left_roles
\gset

\connect :"tap_db"
SET client_min_messages = warning;
DROP DATABASE :"tap_probe_db" WITH (FORCE);

BEGIN;

SELECT plan(719);

-- ---------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------

-- Run sql as role r (NULL: as we are) and undo it: 'ok' if it succeeded,
-- else 'SQLSTATE: message'.  Each cell of the matrices starts from the
-- same state this way.
CREATE FUNCTION pg_temp.try_as(r name, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
BEGIN
	IF r IS NOT NULL THEN
		EXECUTE format('SET LOCAL ROLE %I', r);
	END IF;
	EXECUTE sql;
	RAISE EXCEPTION 'undo' USING ERRCODE = 'TAPOK';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	IF state = 'TAPOK' THEN
		RETURN 'ok';
	END IF;
	RETURN state || ': ' || msg;
END
$$;

-- Run sql and keep what it did: 'ok', or 'SQLSTATE: message' (undone).
CREATE FUNCTION pg_temp.attempt(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- 'SQLSTATE: message | detail | hint' of a statement (NULL if it succeeds).
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

-- The table privileges role holds on the objects of queue q, as
-- (object, privilege) rows: q, dl, a, k, p for the tables, seq for the
-- message id sequence.
CREATE FUNCTION pg_temp.acl_of(role name, q text)
RETURNS TABLE (obj text, privilege text)
LANGUAGE sql AS $$
	SELECT CASE WHEN c.relkind = 'S' THEN 'seq'
				ELSE split_part(c.relname, '_', 1) END, a.privilege_type
	  FROM pg_class c, aclexplode(c.relacl) a
	 WHERE c.relnamespace = 'queue'::regnamespace
	   AND c.relname IN ('q_' || q, 'dl_' || q, 'a_' || q, 'k_' || q, 'p_' || q,
						 'qseq_' || q)
	   AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = role)
$$;

-- Run a query returning one boolean as role r.
CREATE FUNCTION pg_temp.as_role_bool(r name, sql text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	result boolean;
BEGIN
	EXECUTE format('SET LOCAL ROLE %I', r);
	EXECUTE sql INTO result;
	RESET ROLE;
	RETURN result;
END
$$;

-- Run a query returning text rows as role r.
CREATE FUNCTION pg_temp.as_role_rows(r name, sql text) RETURNS SETOF record
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SET LOCAL ROLE %I', r);
	RETURN QUERY EXECUTE sql;
	RESET ROLE;
END
$$;

-- Injection sentinel: if anything executes a hostile argument as SQL, it
-- is told to drop this.
CREATE TABLE public.tap_sentinel (x int);
-- What code planted in schema queue records when it runs (section 6).
CREATE TABLE public.tap_pwned (who name, what text);
GRANT INSERT ON public.tap_pwned TO PUBLIC;

-- ---------------------------------------------------------------------
-- Roles and queues
-- ---------------------------------------------------------------------

CREATE TEMP TABLE tap_registry_before AS SELECT queue_name FROM queue.registry;

CREATE ROLE tap_producer;
CREATE ROLE tap_consumer;
CREATE ROLE tap_manager;
CREATE ROLE tap_creator;
CREATE ROLE tap_stranger;
CREATE ROLE tap_other;
GRANT CREATE ON SCHEMA queue TO tap_creator;

-- priv_a: archives on ack (consumers insert into a_), dead-letters at the
-- first failed delivery (consumers insert into dl_).
SELECT queue.create('priv_a', max_deliveries => 1, retention => '1 day');
SELECT queue.create('priv_b');
-- ids 1, 2, 3 in flight (delivery_count 1), 3 nacked to the dead letters
SELECT count(*) FROM queue.send_batch('priv_a', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[]);
SELECT count(*) FROM queue.read('priv_a', 3, visibility_timeout => '1 hour');
SELECT queue.nack('priv_a', 3, reason => 'setup');
-- 4 ready; 5 and 6 from producer p1 with seq 2 missing
SELECT queue.send('priv_a', '{"n": 4}');
SELECT queue.send('priv_a', '{"n": 5}', producer => 'p1', producer_seq => 1);
SELECT queue.send('priv_a', '{"n": 6}', producer => 'p1', producer_seq => 3);
SELECT queue.send('priv_b', '{"n": 1}');

SELECT queue.grant('priv_a', 'tap_producer', 'send');
SELECT queue.grant('priv_a', 'tap_consumer', 'consume');
SELECT queue.grant('priv_a', 'tap_manager', 'manage');

SET ROLE tap_creator;
SELECT queue.create('priv_c');
RESET ROLE;

SELECT queue.bind('t_priv_a', 'priv_a');
SELECT queue.bind('t_priv_b', 'priv_b');
SELECT queue.bind('t_priv_c', 'priv_c');

-- who holds what: the matrices' expectations follow from this
CREATE TEMP TABLE tap_holds (role name, queue_name text, privilege text);
INSERT INTO tap_holds VALUES
	('tap_producer', 'priv_a', 'send'),
	('tap_consumer', 'priv_a', 'consume'),
	('tap_manager', 'priv_a', 'manage'),
	('tap_creator', 'priv_c', 'manage');

CREATE TEMP TABLE tap_roles (ord int, role name);
INSERT INTO tap_roles VALUES
	(1, 'tap_producer'), (2, 'tap_consumer'), (3, 'tap_manager'),
	(4, 'tap_creator'), (5, 'tap_stranger');

CREATE TEMP TABLE tap_queues (ord int, queue_name text);
INSERT INTO tap_queues VALUES (1, 'priv_a'), (2, 'priv_b'), (3, 'priv_c');

-- =====================================================================
-- 1. (results) The install script against a planted schema queue
-- =====================================================================

SELECT is(:'install_fresh'::text, 'ok', 'install: CREATE EXTENSION queue in a database without schema queue');
SELECT is(:'install_own_empty'::text, 'ok',
	'install: an empty schema queue of the installer''s own, with no grants, is accepted');
SELECT is(:'install_foreign'::text, '42501: schema "queue" belongs to another role',
	'install: refuses a schema queue owned by another role');
SELECT is(:'install_member'::text, '42501: schema "queue" belongs to another role',
	'install: refuses a schema queue owned by a role the installer is a member of');
SELECT is(:'install_table'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a table');
SELECT is(:'install_view'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a view');
SELECT is(:'install_function'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a function');
SELECT is(:'install_type'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a type');
SELECT is(:'install_domain'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a domain');
SELECT is(:'install_operator'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding an operator');

SELECT is(:'install_collation'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a collation');
SELECT is(:'install_ts'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a text search configuration');
SELECT is(:'install_conversion'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding a conversion');
SELECT is(:'install_opfamily'::text, '55000: schema "queue" is not empty',
	'install: refuses a schema queue holding an operator family');

SELECT isnt(:'install_public_create'::text, 'ok',
	'install: refuses a schema queue on which PUBLIC may CREATE (anyone could plant objects later)');
SELECT isnt(:'install_role_create'::text, 'ok',
	'install: refuses a schema queue on which another role may CREATE');

SELECT is(:'install_left_schemas'::int, 0, 'install probe: every case was undone (no schema queue left)');
SELECT is(:'install_left_roles'::int, 0, 'install probe: every case was undone (no role left)');

-- =====================================================================
-- 2. The privilege matrix: every role against every function
-- =====================================================================

-- Each call: %1$L is the queue, %2$L its topic (t_<queue>, bound to it).
-- need: the privilege on the queue the call needs.
CREATE TEMP TABLE tap_calls (ord int, label text, sql text, need text);
INSERT INTO tap_calls VALUES
	(1, 'alter', $$SELECT queue.alter(%1$L, visibility_timeout => '1 minute', unlogged => true)$$, 'manage'),
	(2, 'drop', $$SELECT queue.drop(%1$L)$$, 'manage'),
	(3, 'drop if_exists', $$SELECT queue.drop(%1$L, if_exists => true)$$, 'manage'),
	(4, 'purge', $$SELECT queue.purge(%1$L)$$, 'manage'),
	(5, 'send', $$SELECT queue.send(%1$L, '{"m": 1}')$$, 'send'),
	(6, 'send with every option', $$SELECT queue.send(%1$L, '{"m": 2}', headers => '{"h": 1}',
		delay => '1 second', idempotency_key => 'tap-k', group_key => 'g', priority => 1,
		producer => 'tap-p', producer_seq => 7, ttl => '1 hour')$$, 'send'),
	(7, 'send_batch', $$SELECT queue.send_batch(%1$L, ARRAY['{"m": 3}', '{"m": 4}']::jsonb[],
		idempotency_keys => ARRAY['tap-k1', 'tap-k2'], group_keys => ARRAY['g', 'g'])$$, 'send'),
	(8, 'read', $$SELECT * FROM queue.read(%1$L, 10)$$, 'consume'),
	(9, 'read with wait', $$SELECT * FROM queue.read(%1$L, 1, wait => '10 milliseconds')$$, 'consume'),
	(10, 'pop', $$SELECT * FROM queue.pop(%1$L, 10)$$, 'consume'),
	(11, 'ack', $$SELECT queue.ack(%1$L, 1, 1)$$, 'consume'),
	(12, 'ack of an array', $$SELECT queue.ack(%1$L, ARRAY[1, 2]::bigint[])$$, 'consume'),
	(13, 'nack', $$SELECT queue.nack(%1$L, 1, reason => 'tap')$$, 'consume'),
	(14, 'extend', $$SELECT queue.extend(%1$L, 2, '1 minute')$$, 'consume'),
	(15, 'dead_letters', $$SELECT * FROM queue.dead_letters(%1$L)$$, 'consume'),
	(16, 'redrive', $$SELECT queue.redrive(%1$L)$$, 'manage'),
	(17, 'stats(queue)', $$SELECT * FROM queue.stats(%1$L)$$, 'consume'),
	(18, 'bind', $$SELECT queue.bind('tap_new_topic', %1$L)$$, 'manage'),
	(19, 'unbind', $$SELECT queue.unbind(%2$L, %1$L)$$, 'manage'),
	(20, 'publish', $$SELECT queue.publish(%2$L, '{"m": 5}')$$, 'send'),
	(21, 'producer_gaps', $$SELECT * FROM queue.producer_gaps(%1$L)$$, 'consume'),
	(22, 'grant', $$SELECT queue.grant(%1$L, 'tap_other', 'send')$$, 'manage'),
	(23, 'revoke', $$SELECT queue.revoke(%1$L, 'tap_other', 'consume')$$, 'manage'),
	(24, 'pause', $$SELECT queue.pause(%1$L)$$, 'manage'),
	(25, 'resume', $$SELECT queue.resume(%1$L)$$, 'manage');

-- 5 roles x 3 queues x 25 calls
SELECT is(pg_temp.try_as(r.role, format(c.sql, q.queue_name, 't_' || q.queue_name)),
		  CASE WHEN EXISTS (SELECT 1 FROM tap_holds h
							 WHERE h.role = r.role AND h.queue_name = q.queue_name
							   AND h.privilege IN (c.need, 'manage'))
			   THEN 'ok'
			   ELSE format('42501: permission denied for queue "%s"', q.queue_name) END,
		  format('%s, %s: %s', r.role, q.queue_name, c.label))
  FROM tap_queues q, tap_roles r, tap_calls c
 ORDER BY q.ord, r.ord, c.ord;

-- The calls that name no queue of theirs
SELECT is(pg_temp.try_as(r.role, $$SELECT queue.create('priv_new')$$),
		  CASE WHEN r.role = 'tap_creator' THEN 'ok'
			   ELSE '42501: permission denied for schema queue' END,
		  format('%s: create (needs CREATE on schema queue)', r.role))
  FROM tap_roles r ORDER BY r.ord;
SELECT is(pg_temp.try_as(r.role, $$SELECT queue.create('priv_a', if_not_exists => true)$$),
		  CASE WHEN r.role = 'tap_creator' THEN 'ok'
			   ELSE '42501: permission denied for schema queue' END,
		  format('%s: create if_not_exists of an existing queue', r.role))
  FROM tap_roles r ORDER BY r.ord;
SELECT is(pg_temp.try_as(r.role, $$SELECT * FROM queue.stats()$$), 'ok',
		  format('%s: stats() of every queue', r.role))
  FROM tap_roles r ORDER BY r.ord;
SELECT is(pg_temp.try_as(r.role,
			$$SELECT 1 / (NOT queue.drop('priv_missing', if_exists => true))::int$$), 'ok',
		  format('%s: drop if_exists of a missing queue returns false', r.role))
  FROM tap_roles r ORDER BY r.ord;
-- a missing queue is 42704 for anyone, before the privilege
SELECT is(pg_temp.try_as('tap_stranger', format(c.sql, 'priv_missing', 't_priv_missing')),
		  CASE WHEN c.label = 'drop if_exists' OR c.label = 'publish' THEN 'ok'
			   ELSE '42704: queue "priv_missing" does not exist' END,
		  format('tap_stranger, a missing queue: %s', c.label))
  FROM tap_calls c ORDER BY c.ord;

-- The same refusals outside the helper, at top level
SET ROLE tap_producer;
SELECT lives_ok($$SELECT queue.send('priv_a', '{"top": 1}')$$, 'producer: send to priv_a');
SELECT throws_ok($$SELECT * FROM queue.read('priv_a')$$, '42501',
	'permission denied for queue "priv_a"', 'producer: read priv_a is refused');
SELECT throws_ok($$SELECT queue.send('priv_b', '{}')$$, '42501',
	'permission denied for queue "priv_b"', 'producer of priv_a: send to priv_b is refused');
SELECT throws_ok($$SELECT queue.purge('priv_a')$$, '42501',
	'permission denied for queue "priv_a"', 'producer: purge priv_a is refused');
RESET ROLE;
SET ROLE tap_consumer;
SELECT lives_ok($$SELECT * FROM queue.read('priv_a')$$, 'consumer: read priv_a');
SELECT throws_ok($$SELECT queue.send('priv_a', '{}')$$, '42501',
	'permission denied for queue "priv_a"', 'consumer: send to priv_a is refused');
SELECT throws_ok($$SELECT queue.drop('priv_a')$$, '42501',
	'permission denied for queue "priv_a"', 'consumer: drop priv_a is refused');
SELECT throws_ok($$SELECT queue.drop('priv_a', if_exists => true)$$, '42501',
	'permission denied for queue "priv_a"', 'consumer: drop if_exists of an existing queue is refused');
RESET ROLE;
SET ROLE tap_stranger;
SELECT throws_ok($$SELECT queue.ack('priv_a', 1)$$, '42501',
	'permission denied for queue "priv_a"', 'stranger: ack on priv_a is refused');
SELECT is(pg_temp.error_of($$SELECT * FROM queue.dead_letters('priv_a')$$),
	'42501: permission denied for queue "priv_a" | This needs the consume privilege on the queue. | '
	'A manager of the queue grants it with queue.grant(''priv_a'', role, ''consume'').',
	'stranger: the refusal says which privilege is needed and how it is granted');
SELECT throws_ok($$SELECT queue.create('priv_x')$$, '42501',
	'permission denied for schema queue', 'stranger: create is refused');
SELECT throws_ok($$SELECT queue.create('Bad')$$, '22023', NULL,
	'stranger: create with a bad name is 22023 (the name is checked first)');
RESET ROLE;

-- stats() lists the queues the caller may consume from
SET ROLE tap_producer;
SELECT is_empty($$SELECT queue_name FROM queue.stats()$$, 'producer: stats() lists no queue');
RESET ROLE;
SET ROLE tap_consumer;
SELECT results_eq($$SELECT queue_name FROM queue.stats()$$, ARRAY['priv_a'],
	'consumer: stats() lists priv_a only');
RESET ROLE;
SET ROLE tap_manager;
SELECT results_eq($$SELECT queue_name FROM queue.stats()$$, ARRAY['priv_a'],
	'manager: stats() lists priv_a only');
RESET ROLE;
SET ROLE tap_creator;
SELECT results_eq($$SELECT queue_name FROM queue.stats()$$, ARRAY['priv_c'],
	'creator: stats() lists priv_c only');
RESET ROLE;
SET ROLE tap_stranger;
SELECT is_empty($$SELECT queue_name FROM queue.stats()$$, 'stranger: stats() lists no queue');
RESET ROLE;

-- a monitoring role (pg_read_all_stats, through pg_monitor) sees every
-- queue's counts, and nothing of its messages
CREATE ROLE tap_monitor IN ROLE pg_monitor;
CREATE TEMP TABLE tap_all_queues AS SELECT queue_name FROM queue.registry;
GRANT SELECT ON tap_all_queues TO tap_monitor;
SET ROLE tap_monitor;
SELECT set_eq($$SELECT queue_name FROM queue.stats()$$,
	$$SELECT queue_name FROM tap_all_queues$$, 'monitor: stats() lists every queue');
SELECT set_eq($$SELECT queue_name FROM queue.metrics GROUP BY queue_name HAVING count(*) = 9$$,
	$$SELECT queue_name FROM tap_all_queues$$, 'monitor: queue.metrics has nine metrics of every queue');
SELECT lives_ok($$SELECT * FROM queue.stats('priv_a')$$, 'monitor: stats of one queue');
SELECT throws_ok($$SELECT * FROM queue.stats('priv_a', exact => true)$$, '42501', NULL,
	'monitor: exact stats (a scan of the tables) need consume');
SELECT throws_ok($$SELECT * FROM queue.stats('tap_nope')$$, '42704', NULL,
	'monitor: stats of a missing queue is 42704');
SELECT throws_ok($$SELECT * FROM queue.read('priv_a')$$, '42501', NULL,
	'monitor: read is refused');
SELECT throws_ok($$SELECT * FROM queue.dead_letters('priv_a')$$, '42501', NULL,
	'monitor: dead_letters is refused');
SELECT throws_ok($$SELECT * FROM queue.q_priv_a$$, '42501', NULL,
	'monitor: the message table cannot be read');
RESET ROLE;

-- publish needs send on every bound queue; the error names the first refused
SELECT queue.bind('t_ab', 'priv_a');
SELECT queue.bind('t_ab', 'priv_b');
SELECT queue.bind('t_none_bound', 'priv_b');
SELECT queue.unbind('t_none_bound', 'priv_b');
CREATE TEMP TABLE tap_count AS SELECT count(*) AS n FROM queue.q_priv_a;
SET ROLE tap_producer;
SELECT throws_ok($$SELECT queue.publish('t_ab', '{"m": "ab"}')$$, '42501',
	'permission denied for queue "priv_b"',
	'producer of priv_a: publish to a topic bound to priv_a and priv_b names priv_b');
SELECT is(queue.publish('t_none_bound', '{}'), 0, 'producer: publish to a topic bound to nothing: 0');
RESET ROLE;
SELECT is((SELECT count(*) FROM queue.q_priv_a), (SELECT n FROM tap_count),
	'the refused publish left nothing in priv_a');
SET ROLE tap_stranger;
SELECT throws_ok($$SELECT queue.publish('t_ab', '{}')$$, '42501',
	'permission denied for queue "priv_a"', 'stranger: publish names the first bound queue, priv_a');
RESET ROLE;
CREATE ROLE tap_both;
SELECT queue.grant('priv_a', 'tap_both', 'send');
SELECT queue.grant('priv_b', 'tap_both', 'send');
SET ROLE tap_both;
SELECT is(queue.publish('t_ab', '{"m": "ab"}'), 2, 'a role with send on both queues publishes to both');
RESET ROLE;

-- =====================================================================
-- 2b. The privilege matrix: every role against every table
-- =====================================================================

-- the table privileges queue.grant gives, exactly (API: Privileges)
CREATE TEMP TABLE tap_rights (privilege text, obj text, op text);
-- Queue privileges are not table privileges (issue 12): each holds only
-- reading, which cannot lock a row: the id sequence (the anchor of the
-- privilege) for all, the tables for consume and manage.
INSERT INTO tap_rights VALUES
	('send', 'seq', 'SELECT'), ('consume', 'seq', 'SELECT'),
	('consume', 'q', 'SELECT'), ('consume', 'a', 'SELECT'),
	('consume', 'dl', 'SELECT'), ('consume', 'p', 'SELECT');
INSERT INTO tap_rights
	SELECT 'manage', t, 'SELECT'
	  FROM unnest(ARRAY['q', 'dl', 'a', 'k', 'p', 'seq']) t;

SELECT set_eq(format($$SELECT * FROM pg_temp.acl_of(%L, 'priv_a')$$, r.role),
			  format($$SELECT obj, op FROM tap_rights WHERE privilege = %L$$, h.privilege),
			  format('%s: its ACL entries on the objects of priv_a are exactly those of %s',
					 r.role, h.privilege))
  FROM tap_roles r JOIN tap_holds h USING (role)
 WHERE h.queue_name = 'priv_a'
 ORDER BY r.ord;
SELECT is_empty($$SELECT * FROM pg_temp.acl_of('tap_creator', 'priv_a')
				  UNION ALL SELECT * FROM pg_temp.acl_of('tap_stranger', 'priv_a')$$,
	'creator and stranger: no ACL entry on the objects of priv_a');
SELECT set_eq($$SELECT * FROM pg_temp.acl_of('tap_creator', 'priv_c')$$,
			  $$SELECT obj, op FROM tap_rights WHERE privilege = 'manage'$$,
			  'creator: its ACL entries on the objects of priv_c are exactly those of manage');

-- what each statement on each table takes (%1$s: the queue)
CREATE TEMP TABLE tap_ops (obj text, op text, sql text);
INSERT INTO tap_ops VALUES
	('q', 'SELECT', $$SELECT * FROM queue.q_%1$s$$),
	('q', 'INSERT', $$INSERT INTO queue.q_%1$s (body) VALUES ('{"direct": 1}')$$),
	('q', 'UPDATE', $$UPDATE queue.q_%1$s SET priority = 9$$),
	('q', 'DELETE', $$DELETE FROM queue.q_%1$s$$),
	('q', 'TRUNCATE', $$TRUNCATE queue.q_%1$s$$),
	('dl', 'SELECT', $$SELECT * FROM queue.dl_%1$s$$),
	('dl', 'INSERT', $$INSERT INTO queue.dl_%1$s (id, body, delivery_count, enqueued_at)
						VALUES (1000, '{}', 1, now())$$),
	('dl', 'UPDATE', $$UPDATE queue.dl_%1$s SET reason = 'direct'$$),
	('dl', 'DELETE', $$DELETE FROM queue.dl_%1$s$$),
	('dl', 'TRUNCATE', $$TRUNCATE queue.dl_%1$s$$),
	('a', 'SELECT', $$SELECT * FROM queue.a_%1$s$$),
	('a', 'INSERT', $$INSERT INTO queue.a_%1$s (id, body, delivery_count, enqueued_at)
					   VALUES (1000, '{}', 1, now())$$),
	('a', 'UPDATE', $$UPDATE queue.a_%1$s SET priority = 9$$),
	('a', 'DELETE', $$DELETE FROM queue.a_%1$s$$),
	('a', 'TRUNCATE', $$TRUNCATE queue.a_%1$s$$),
	('k', 'SELECT', $$SELECT * FROM queue.k_%1$s$$),
	('k', 'INSERT', $$INSERT INTO queue.k_%1$s (key, id, created_at) VALUES ('direct', 1, now())$$),
	('k', 'UPDATE', $$UPDATE queue.k_%1$s SET created_at = now()$$),
	('k', 'DELETE', $$DELETE FROM queue.k_%1$s$$),
	('k', 'TRUNCATE', $$TRUNCATE queue.k_%1$s$$),
	('p', 'SELECT', $$SELECT * FROM queue.p_%1$s$$),
	('p', 'INSERT', $$INSERT INTO queue.p_%1$s (producer, seq, id, seen_at)
					   VALUES ('direct', 1, 1, now())$$),
	('p', 'UPDATE', $$UPDATE queue.p_%1$s SET seen_at = now()$$),
	('p', 'DELETE', $$DELETE FROM queue.p_%1$s$$),
	('p', 'TRUNCATE', $$TRUNCATE queue.p_%1$s$$),
	('seq', 'SELECT', $$SELECT last_value FROM queue.qseq_%1$s$$),
	('seq', 'USAGE', $$SELECT nextval('queue.qseq_%1$s')$$);

CREATE TEMP TABLE tap_table_results AS
	SELECT r.role, q.queue_name, o.obj, o.op,
		   pg_temp.try_as(r.role, format(o.sql, q.queue_name)) AS result,
		   CASE WHEN EXISTS (SELECT 1 FROM tap_holds h JOIN tap_rights g USING (privilege)
							  WHERE h.role = r.role AND h.queue_name = q.queue_name
								AND g.obj = o.obj AND g.op = o.op)
				THEN 'ok'
				WHEN o.obj = 'seq'
				THEN format('42501: permission denied for sequence qseq_%s', q.queue_name)
				ELSE format('42501: permission denied for table %s_%s', o.obj, q.queue_name)
		   END AS expected
	  FROM tap_roles r, tap_queues q, tap_ops o;

-- 5 roles x 3 queues, each over 5 tables x 5 statements and the sequence
SELECT set_eq(format($$SELECT obj, op, result FROM tap_table_results
						WHERE role = %L AND queue_name = %L$$, r.role, q.queue_name),
			  format($$SELECT obj, op, expected FROM tap_table_results
						WHERE role = %L AND queue_name = %L$$, r.role, q.queue_name),
			  format('%s, %s: SELECT, INSERT, UPDATE, DELETE, TRUNCATE on q_, dl_, a_, k_, p_ '
					 'and the id sequence are allowed exactly as its privilege says',
					 r.role, q.queue_name))
  FROM tap_queues q, tap_roles r
 ORDER BY q.ord, r.ord;

-- Managing a queue is not owning its tables
SELECT is(pg_temp.try_as(t.role, format(s.sql, t.queue_name)), s.expected || t.queue_name,
		  format('%s: %s %s is refused', t.role, s.label, t.queue_name))
  FROM (VALUES (1, 'tap_manager', 'priv_a'), (2, 'tap_creator', 'priv_c')) t(ord, role, queue_name),
	   (VALUES
		(1, 'DROP TABLE', $$DROP TABLE queue.q_%s$$, '42501: must be owner of table q_'),
		(2, 'ALTER TABLE', $$ALTER TABLE queue.q_%s ADD COLUMN x int$$, '42501: must be owner of table q_'),
		(3, 'CREATE INDEX', $$CREATE INDEX ON queue.q_%s (body)$$, '42501: must be owner of table q_'),
		(4, 'CREATE TRIGGER', $$CREATE TRIGGER tap_t BEFORE INSERT ON queue.q_%s FOR EACH ROW
								 EXECUTE FUNCTION suppress_redundant_updates_trigger()$$,
		 '42501: permission denied for table q_'),
		(5, 'CREATE POLICY', $$CREATE POLICY tap_p ON queue.q_%s USING (true)$$,
		 '42501: must be owner of table q_')) s(ord, label, sql, expected)
 ORDER BY t.ord, s.ord;
SELECT is_empty($$SELECT c.relname, a.grantee::regrole FROM pg_class c, aclexplode(c.relacl) a
				   WHERE c.relnamespace = 'queue'::regnamespace AND a.is_grantable
					 AND a.grantee <> c.relowner$$,
	'nobody but the owner holds a grant option on anything in schema queue');

-- The catalog tables: neither readable nor writable by anyone but the owner
SELECT is(pg_temp.try_as(r.role, format(s.sql, t)),
		  format('42501: permission denied for table %s', t),
		  format('%s: %s queue.%s', r.role, s.op, t))
  FROM tap_roles r,
	   (VALUES (1, 'registry'), (2, 'bindings'), (3, 'grants')) g(ord, t),
	   (VALUES
		(1, 'SELECT', $$SELECT * FROM queue.%I$$),
		(2, 'INSERT', $$INSERT INTO queue.%I SELECT * FROM queue.%1$I LIMIT 0$$),
		(3, 'UPDATE', $$UPDATE queue.%I SET queue_name = queue_name$$),
		(4, 'DELETE', $$DELETE FROM queue.%I$$),
		(5, 'TRUNCATE', $$TRUNCATE queue.%I CASCADE$$)) s(ord, op, sql)
 ORDER BY r.ord, g.ord, s.ord;

-- =====================================================================
-- 3. queue.grant and queue.revoke
-- =====================================================================

-- the creator manages what it created, through a recorded grant
SELECT results_eq($$SELECT queue_name, grantee::text, privilege FROM queue.grants
					 WHERE grantee = 'tap_creator'::regrole$$,
	$$VALUES ('priv_c', 'tap_creator', 'manage')$$, 'the creator of priv_c was granted manage on it');
SELECT is((SELECT relowner FROM pg_class WHERE oid = 'queue.q_priv_c'::regclass),
		  (SELECT extowner FROM pg_extension WHERE extname = 'queue'),
		  'the tables of priv_c belong to the extension''s owner, not to its creator');

-- a manager grants and revokes
SET ROLE tap_manager;
SELECT lives_ok($$SELECT queue.grant('priv_a', 'tap_other', 'send')$$, 'manager: grant send on priv_a to other');
SELECT lives_ok($$SELECT queue.grant('priv_a', 'tap_other', 'send')$$, 'manager: granting it again is a no-op');
RESET ROLE;
SELECT results_eq($$SELECT privilege FROM queue.grants
					 WHERE queue_name = 'priv_a' AND grantee = 'tap_other'::regrole$$,
	ARRAY['send'], 'queue.grants records the grant once');
SELECT set_eq($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_a')$$,
			  $$SELECT obj, op FROM tap_rights WHERE privilege = 'send'$$,
			  'other: the ACL entries of send on priv_a');
SET ROLE tap_other;
SELECT lives_ok($$SELECT queue.send('priv_a', '{"other": 1}')$$, 'other, granted send: sends to priv_a');
SELECT throws_ok($$SELECT * FROM queue.read('priv_a')$$, '42501',
	'permission denied for queue "priv_a"', 'other, granted send: read priv_a is refused');
RESET ROLE;
SET ROLE tap_manager;
SELECT lives_ok($$SELECT queue.revoke('priv_a', 'tap_other', 'send')$$, 'manager: revoke send on priv_a from other');
RESET ROLE;
SET ROLE tap_other;
SELECT throws_ok($$SELECT queue.send('priv_a', '{"other": 2}')$$, '42501',
	'permission denied for queue "priv_a"', 'other, after revoke: send to priv_a is refused');
SELECT throws_ok($$INSERT INTO queue.q_priv_a (body) VALUES ('{}')$$, '42501',
	'permission denied for table q_priv_a', 'other, after revoke: INSERT into q_priv_a is refused');
RESET ROLE;
SELECT is_empty($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_a')$$,
	'other, after revoke: no ACL entry left on the objects of priv_a');
SELECT is_empty($$SELECT * FROM queue.grants WHERE grantee = 'tap_other'::regrole$$,
	'other, after revoke: no row left in queue.grants');

-- revoking one privilege keeps the others granted separately
SELECT queue.grant('priv_a', 'tap_other', 'send');
SELECT queue.grant('priv_a', 'tap_other', 'manage');
SELECT queue.revoke('priv_a', 'tap_other', 'send');
SET ROLE tap_other;
SELECT lives_ok($$SELECT queue.send('priv_a', '{"other": 3}')$$,
	'other, send revoked but manage kept: still sends');
SELECT lives_ok($$SELECT queue.alter('priv_a', visibility_timeout => '31 seconds')$$,
	'other, send revoked but manage kept: still alters');
RESET ROLE;
SELECT set_eq($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_a')$$,
			  $$SELECT obj, op FROM tap_rights WHERE privilege = 'manage'$$,
			  'other, send revoked but manage kept: the ACL entries of manage');
SELECT queue.revoke('priv_a', 'tap_other', 'manage');
SET ROLE tap_other;
SELECT throws_ok($$SELECT queue.send('priv_a', '{"other": 4}')$$, '42501',
	'permission denied for queue "priv_a"', 'other, manage revoked too: send is refused');
SELECT throws_ok($$SELECT queue.purge('priv_a')$$, '42501',
	'permission denied for queue "priv_a"', 'other, manage revoked too: purge is refused');
RESET ROLE;

SELECT queue.grant('priv_a', 'tap_other', 'send');
SELECT queue.grant('priv_a', 'tap_other', 'consume');
SELECT queue.revoke('priv_a', 'tap_other', 'consume');
SELECT set_eq($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_a')$$,
			  $$SELECT obj, op FROM tap_rights WHERE privilege = 'send'$$,
			  'other, consume revoked but send kept: the ACL entries of send, no more');
SET ROLE tap_other;
SELECT throws_ok($$SELECT * FROM queue.read('priv_a')$$, '42501',
	'permission denied for queue "priv_a"', 'other, consume revoked: read is refused');
SELECT lives_ok($$SELECT queue.send('priv_a', '{"other": 5}')$$, 'other, consume revoked: still sends');
RESET ROLE;
SELECT lives_ok($$SELECT queue.revoke('priv_a', 'tap_other', 'manage')$$,
	'revoking a privilege the role does not hold is a no-op');
SELECT set_eq($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_a')$$,
			  $$SELECT obj, op FROM tap_rights WHERE privilege = 'send'$$,
			  '... and leaves what it holds');
SELECT queue.revoke('priv_a', 'tap_other', 'send');

-- the owner
SELECT extowner::regrole::text AS tap_owner FROM pg_extension WHERE extname = 'queue' \gset
SET ROLE tap_manager;
SELECT throws_ok(format($$SELECT queue.revoke('priv_a', %L, 'send')$$, :'tap_owner'), '0LP01',
	'cannot revoke privileges on queue "priv_a" from its owner', 'manager: revoking from the owner is 0LP01');
SELECT is(current_user::text, 'tap_manager',
	'after an error raised while its _impl ran as the owner, the caller is itself again');
SELECT throws_ok($$TRUNCATE queue.q_priv_b$$, '42501', 'permission denied for table q_priv_b',
	'... and has none of the owner''s rights');
SELECT throws_ok($$SELECT queue.grant('priv_a', 'tap_no_such_role', 'send')$$, '42704',
	'role "tap_no_such_role" does not exist', 'manager: grant to an unknown role is 42704');
SELECT is(current_user::text, 'tap_manager', '... and the caller is itself again');
SELECT throws_ok($$SELECT queue.revoke('priv_a', 'tap_no_such_role', 'send')$$, '42704',
	'role "tap_no_such_role" does not exist', 'manager: revoke from an unknown role is 42704');
SELECT throws_ok($$SELECT queue.grant('priv_a', 'tap_other', 'read')$$, '22023',
	'unknown queue privilege "read"', 'manager: grant of an unknown privilege is 22023');
SELECT throws_ok($$SELECT queue.revoke('priv_a', 'tap_other', 'read')$$, '22023',
	'unknown queue privilege "read"', 'manager: revoke of an unknown privilege is 22023');
SELECT throws_ok($$SELECT queue.grant('priv_a', 'tap_other', NULL)$$, '22023',
	'privilege must not be NULL', 'manager: grant of a NULL privilege is 22023');
SELECT throws_ok($$SELECT queue.revoke('priv_a', NULL, 'send')$$, '22023',
	'role must not be NULL', 'manager: revoke from a NULL role is 22023');
SELECT throws_ok($$SELECT queue.grant('priv_a', NULL, 'send')$$, '22023',
	'role must not be NULL', 'manager: grant to a NULL role is 22023, as every NULL argument');
SELECT throws_ok($$SELECT queue.grant(NULL, 'tap_other', 'send')$$, '22023', NULL,
	'manager: grant on a NULL queue is 22023');
SELECT throws_ok($$SELECT queue.grant('priv_missing', 'tap_other', 'send')$$, '42704',
	'queue "priv_missing" does not exist', 'manager: grant on a missing queue is 42704');
SELECT lives_ok(format($$SELECT queue.grant('priv_a', %L, 'send')$$, :'tap_owner'),
	'manager: granting to the owner is a no-op');
RESET ROLE;
SELECT is_empty(format($$SELECT * FROM queue.grants WHERE grantee = %L::regrole$$, :'tap_owner'),
	'... that records nothing');
SELECT throws_ok(format($$SELECT queue.revoke('priv_a', %L, 'manage')$$, :'tap_owner'), '0LP01',
	'cannot revoke privileges on queue "priv_a" from its owner', 'owner: revoking from itself is 0LP01');

-- the creator's manage can be revoked; creating queues is another right
SELECT queue.revoke('priv_c', 'tap_creator', 'manage');
SET ROLE tap_creator;
SELECT throws_ok($$SELECT queue.purge('priv_c')$$, '42501', 'permission denied for queue "priv_c"',
	'creator, manage on priv_c revoked: purge is refused');
SELECT lives_ok($$SELECT queue.create('priv_c2')$$, 'creator, manage on priv_c revoked: still creates queues');
SELECT lives_ok($$SELECT queue.purge('priv_c2')$$, '... and manages those');
RESET ROLE;
REVOKE CREATE ON SCHEMA queue FROM tap_creator;
SET ROLE tap_creator;
SELECT throws_ok($$SELECT queue.create('priv_c3')$$, '42501', 'permission denied for schema queue',
	'creator, CREATE on schema queue revoked: create is refused');
SELECT lives_ok($$SELECT queue.purge('priv_c2')$$, '... and still manages the queues it created');
RESET ROLE;
GRANT CREATE ON SCHEMA queue TO tap_creator;

-- a dropped queue takes its grants with it
SELECT queue.create('priv_d');
SELECT queue.grant('priv_d', 'tap_other', 'consume');
SELECT queue.drop('priv_d');
SELECT is_empty($$SELECT * FROM queue.grants WHERE queue_name = 'priv_d'$$,
	'drop removes the queue''s rows from queue.grants');
SELECT queue.create('priv_d');
SET ROLE tap_other;
SELECT throws_ok($$SELECT * FROM queue.read('priv_d')$$, '42501', 'permission denied for queue "priv_d"',
	'a queue created again under a dropped one''s name does not inherit its grants');
RESET ROLE;

-- a manager may give its queue away, itself included
SET ROLE tap_manager;
SELECT lives_ok($$SELECT queue.grant('priv_a', 'tap_other', 'manage')$$, 'manager: grant manage to other');
SELECT lives_ok($$SELECT queue.revoke('priv_a', 'tap_manager', 'manage')$$, 'manager: revoke its own manage');
SELECT throws_ok($$SELECT queue.purge('priv_a')$$, '42501', 'permission denied for queue "priv_a"',
	'former manager: purge is refused');
RESET ROLE;
SET ROLE tap_other;
SELECT lives_ok($$SELECT queue.grant('priv_a', 'tap_manager', 'manage')$$, 'other, now a manager: grants manage back');
RESET ROLE;
SELECT queue.revoke('priv_a', 'tap_other', 'manage');

-- =====================================================================
-- 4. What PUBLIC may do; SECURITY INVOKER; pinned search paths
-- =====================================================================

CREATE ROLE tap_nobody;

SELECT results_eq($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace
	   AND has_function_privilege('tap_nobody', p.oid, 'EXECUTE')
	 ORDER BY p.oid::regprocedure::text COLLATE "C"$$,
	$$VALUES
		('queue."create"(text,interval,integer,interval,interval,interval,interval,boolean,boolean,boolean,integer,text,interval,boolean)'),
		('queue."grant"(text,name,text)'),
		('queue._bound_queues(text)'),
		('queue._check_access(text,text)'),
		('queue._check_name(text,text)'),
		('queue._check_options(interval,integer,interval,interval,interval,interval)'),
		('queue._check_ttl(interval)'),
		('queue._count(text)'),
		('queue._group_limit(boolean,integer,integer)'),
		('queue._health(interval,interval)'),
		('queue._max_span()'),
		('queue._may_see(text)'),
		('queue._measured(oid)'),
		('queue._not_here(text,text)'),
		('queue._on_all_nodes(text,boolean)'),
		('queue._one_node(text)'),
		('queue._preloaded()'),
		('queue._routed()'),
		('queue._run_here()'),
		('queue._sleepers(oid)'),
		('queue._space(oid)'),
		('queue._stats(text,boolean)'),
		('queue._valid_name(text)'),
		('queue._worker_status()'),
		('queue.ack(text,bigint,integer)'),
		('queue.ack(text,bigint[])'),
		('queue.alter(text,interval,integer,interval,interval,interval,interval,boolean,boolean,integer,text,interval,boolean)'),
		('queue.bind(text,text)'),
		('queue.cluster_queues()'),
		('queue.cluster_stats(boolean)'),
		('queue.cluster_worker_status()'),
		('queue.dead_letters(text,integer)'),
		('queue.drop(text,boolean)'),
		('queue.extend(text,bigint,interval,integer)'),
		('queue.has_queue_privilege(regrole,text,text)'),
		('queue.has_queue_privilege(text,text)'),
		('queue.health(interval,interval)'),
		('queue.nack(text,bigint,interval,text,integer)'),
		('queue.pause(text)'),
		('queue.pop(text,integer)'),
		('queue.producer_gaps(text)'),
		('queue.publish(text,jsonb,jsonb,interval,text,text,interval)'),
		('queue.purge(text)'),
		('queue.read(text,integer,interval,interval)'),
		('queue.redrive(text,integer,bigint[])'),
		('queue.resume(text)'),
		('queue.revoke(text,name,text)'),
		('queue.send(text,jsonb,jsonb,interval,text,text,integer,text,bigint,interval)'),
		('queue.send_batch(text,jsonb[],jsonb[],interval,text[],text[],integer,interval)'),
		('queue.stats(text,boolean)'),
		('queue.unbind(text,text)')$$,
	'exactly these functions in schema queue may be executed by PUBLIC (a role with no memberships)');

SELECT results_eq($$
	SELECT c.relname::text COLLATE "default", o.op FROM pg_class c,
		   unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) o(op)
	 WHERE c.relnamespace = 'queue'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
	   AND has_table_privilege('tap_nobody', c.oid, o.op)
	 ORDER BY c.relname::text COLLATE "C", o.op$$,
	$$VALUES ('metrics', 'SELECT'), ('queues', 'SELECT'), ('worker_status', 'SELECT')$$,
	'PUBLIC may only SELECT the views metrics, queues and worker_status');
SELECT is_empty($$
	SELECT c.relname FROM pg_class c
	 WHERE c.relnamespace = 'queue'::regnamespace
	   AND CASE WHEN c.relkind = 'S'
				THEN has_sequence_privilege('tap_nobody', c.oid, 'USAGE, SELECT, UPDATE') END$$,
	'PUBLIC may use no sequence in schema queue');
SELECT ok(has_schema_privilege('tap_nobody', 'queue', 'USAGE'), 'PUBLIC has USAGE on schema queue');
SELECT ok(NOT has_schema_privilege('tap_nobody', 'queue', 'CREATE'), 'PUBLIC may not CREATE in schema queue');
SELECT is((SELECT nspowner FROM pg_namespace WHERE nspname = 'queue'),
		  (SELECT extowner FROM pg_extension WHERE extname = 'queue'),
		  'schema queue belongs to the extension''s owner');
SELECT is_empty($$
	SELECT c.oid::regclass FROM pg_class c
	 WHERE c.relnamespace = 'queue'::regnamespace
	   AND c.relowner <> (SELECT extowner FROM pg_extension WHERE extname = 'queue')$$,
	'every relation in schema queue (the queues'' tables included) belongs to the extension''s owner');
SELECT is_empty($$
	SELECT p.oid::regprocedure FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace
	   AND (p.proowner <> (SELECT extowner FROM pg_extension WHERE extname = 'queue')
			OR NOT EXISTS (SELECT 1 FROM pg_depend d
							WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
							  AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
							  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'queue')))$$,
	'every function in schema queue belongs to the extension and to its owner');
SELECT ok((SELECT NOT trusted AND superuser FROM pg_available_extension_versions
			WHERE name = 'queue' AND version = (SELECT extversion FROM pg_extension WHERE extname = 'queue')),
	'the extension is not trusted: only a superuser installs it');

-- Every function: SECURITY INVOKER, or else a search_path starting with pg_catalog
SELECT is_empty($$
	SELECT p.oid::regprocedure FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace AND p.prosecdef$$,
	'no function in schema queue is SECURITY DEFINER');
SELECT is_empty($$
	SELECT p.oid::regprocedure FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace AND p.prosecdef
	   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
						WHERE c LIKE 'search_path=pg_catalog%')$$,
	'every SECURITY DEFINER function in schema queue pins a search_path starting with pg_catalog');
SELECT is_empty($$
	SELECT p.oid::regprocedure, c FROM pg_proc p, unnest(p.proconfig) c
	 WHERE p.pronamespace = 'queue'::regnamespace
	   AND c <> 'search_path=pg_catalog, pg_temp'$$,
	'the functions of schema queue set no configuration but search_path = pg_catalog, pg_temp');
-- These pin no search path in their definition: the C functions of the hot
-- path pin it in C while they run SQL, and the managing ones run only
-- their queue._<name>_impl, which pins its own.  A new function must pin
-- one or be added here consciously.
SELECT results_eq($$
	SELECT p.oid::regprocedure::text FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace
	   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
	 ORDER BY p.oid::regprocedure::text COLLATE "C"$$,
	$$VALUES
		('queue."create"(text,interval,integer,interval,interval,interval,interval,boolean,boolean,boolean,integer,text,interval,boolean)'),
		('queue."grant"(text,name,text)'),
		('queue.ack(text,bigint,integer)'),
		('queue.ack(text,bigint[])'),
		('queue.alter(text,interval,integer,interval,interval,interval,interval,boolean,boolean,integer,text,interval,boolean)'),
		('queue.bind(text,text)'),
		('queue.drop(text,boolean)'),
		('queue.extend(text,bigint,interval,integer)'),
		('queue.nack(text,bigint,interval,text,integer)'),
		('queue.pause(text)'),
		('queue.pop(text,integer)'),
		('queue.purge(text)'),
		('queue.read(text,integer,interval,interval)'),
		('queue.redrive(text,integer,bigint[])'),
		('queue.resume(text)'),
		('queue.revoke(text,name,text)'),
		('queue.send(text,jsonb,jsonb,interval,text,text,integer,text,bigint,interval)'),
		('queue.send_batch(text,jsonb[],jsonb[],interval,text[],text[],integer,interval)'),
		('queue.unbind(text,text)')$$,
	'exactly these functions pin no search_path in their definition (all C, listed)');
SELECT is_empty($$
	SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
	 WHERE p.pronamespace = 'queue'::regnamespace AND l.lanname <> 'c'
	   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')$$,
	'every SQL and PL/pgSQL function in schema queue pins its search_path');

-- =====================================================================
-- 5. Injection through every text argument
-- =====================================================================

-- Queue names outside the rule: 22023 from every function, as a superuser
-- (the worst case) and as a stranger (names are checked before rights).
CREATE TEMP TABLE tap_bad_names (name text);
INSERT INTO tap_bad_names VALUES
	('a; DROP TABLE public.tap_sentinel'), ($$a'--$$), ('"a"'), ('A'), ('a b'),
	(repeat('a', 49)), (''), (NULL), ('1a'), ('priv-a'), ('Priv_A'), (E'priv_a\n'),
	('priv_a '), (' priv_a'), ('priv_ä'), ('%s%n'), ('$1'), ('queue.priv_a'),
	($$priv_a'); DROP TABLE public.tap_sentinel; --$$),
	($$priv_a"; DROP TABLE public.tap_sentinel; --$$),
	('priv_a/*'), (repeat('a', 64)), (repeat('a', 48) || 'b');

CREATE TEMP TABLE tap_name_calls (label text, sql text);
INSERT INTO tap_name_calls SELECT label, sql FROM tap_calls;
INSERT INTO tap_name_calls VALUES
	('create', $$SELECT queue.create(%1$L)$$),
	('create if_not_exists', $$SELECT queue.create(%1$L, if_not_exists => true)$$),
	('stats(queue) through _stats', $$SELECT * FROM queue._stats(%1$L, false)$$),
	('stats(queue, exact) through _stats', $$SELECT * FROM queue._stats(%1$L, true)$$),
	('_check_access', $$SELECT queue._check_access(%1$L, 'send')$$),
	('_check_name', $$SELECT queue._check_name(%1$L)$$);

SELECT is_empty($$
	SELECT c.label, n.name, pg_temp.try_as(NULL, format(c.sql, n.name, 't_priv_a')) AS result
	  FROM tap_name_calls c, tap_bad_names n
	 WHERE c.sql LIKE '%%1$L%%' AND NOT (n.name IS NULL AND c.label LIKE 'stats%%')
	   AND pg_temp.try_as(NULL, format(c.sql, n.name, 't_priv_a')) NOT LIKE '22023: %'$$,
	'superuser: every function refuses every bad queue name with 22023');
SELECT is_empty($$
	SELECT c.label, n.name, pg_temp.try_as('tap_stranger', format(c.sql, n.name, 't_priv_a')) AS result
	  FROM tap_name_calls c, tap_bad_names n
	 WHERE c.sql LIKE '%%1$L%%' AND NOT (n.name IS NULL AND c.label LIKE 'stats%%')
	   AND pg_temp.try_as('tap_stranger', format(c.sql, n.name, 't_priv_a')) NOT LIKE '22023: %'$$,
	'stranger: every function refuses every bad queue name with 22023, before any privilege check');
SELECT is_empty($q$
	SELECT n.name, c.sql, pg_temp.try_as(NULL, format(c.sql, 'priv_a', n.name)) AS result
	  FROM tap_bad_names n,
		   (VALUES ($$SELECT queue.bind(%2$L, %1$L)$$), ($$SELECT queue.unbind(%2$L, %1$L)$$),
				   ($$SELECT queue.publish(%2$L, '{}')$$)) c(sql)
	 WHERE pg_temp.try_as(NULL, format(c.sql, 'priv_a', n.name)) NOT LIKE '22023: %'$q$,
	'bind, unbind and publish refuse every bad topic name with 22023');
SELECT is(split_part(pg_temp.error_of($$SELECT queue._check_name('A', '%s%s%s%s%n')$$), ' | ', 1),
	'22023: invalid %s%s%s%s%n "A"',
	'_check_name (executable by PUBLIC): a what made of format directives is printed verbatim');

-- A name of 48 characters is good, and so are all the names made from it
SELECT lives_ok(format($$SELECT queue.create(%L)$$, repeat('z', 48)), 'create a queue with a name of 48 characters');
SELECT is((SELECT count(*)::int FROM unnest(ARRAY['q_', 'dl_', 'a_', 'k_', 'p_']) t
			WHERE to_regclass('queue.' || t || repeat('z', 48)) IS NOT NULL),
		  5, '... its five tables have their full names');
SELECT is(pg_get_serial_sequence('queue.q_' || repeat('z', 48), 'id'),
		  'queue.qseq_' || repeat('z', 48), '... and so has its id sequence');
SELECT lives_ok(format($f$DO $d$ BEGIN
		PERFORM queue.grant(%1$L, 'tap_other', 'consume');
		PERFORM queue.send(%1$L, '{}');
		PERFORM * FROM queue.read(%1$L);
		PERFORM queue.drop(%1$L);
	END $d$$f$, repeat('z', 48)),
	'... grant, send, read and drop it');

-- The names made from one queue's (its indexes, its id sequence) must not
-- be those of another queue's tables (PostgreSQL's default names, like
-- q_priv_a_pkey, would be), and a queue is found by its table only, never
-- by an index or sequence: a missing queue is 42704, not 42501.
SELECT is_empty($$
	SELECT n, pg_temp.try_as(NULL, format('SELECT queue.create(%L)', n)) AS result
	  FROM unnest(ARRAY['priv_a_priority', 'priv_a_group', 'priv_a_pkey', 'priv_a_id_seq',
						'priv_a_acked_at', 'priv_a_created_at']) n
	 WHERE pg_temp.try_as(NULL, format('SELECT queue.create(%L)', n)) <> 'ok'$$,
	'queues named like the indexes and sequence of priv_a (priv_a_priority, ...) can be created');
SELECT is(pg_temp.try_as('tap_stranger',
			$$SELECT 1 / (NOT queue.drop('priv_a_pkey', if_exists => true))::int$$), 'ok',
	'stranger: drop if_exists of a missing queue named like an index of priv_a returns false');
SET ROLE tap_stranger;
SELECT throws_ok($$SELECT queue.purge('priv_a_group')$$, '42704', 'queue "priv_a_group" does not exist',
	'stranger: purge of a missing queue named like an index of priv_a is 42704');
RESET ROLE;

-- Role names: strings that are no role's name are 42704 (NULL is 22023,
-- as every NULL argument); roles with hostile names are granted and
-- revoked exactly
SELECT is_empty($q$
	SELECT r, p, pg_temp.try_as('tap_manager', format('SELECT queue.%s(''priv_a'', %L, ''send'')', p, r)) AS result
	  FROM unnest(ARRAY['tap_producer; DROP ROLE tap_stranger', '"tap_producer"', 'TAP_PRODUCER',
						$$tap_producer'--$$, 'tap_producer ', 'public', 'PUBLIC', '', NULL]) r,
		   unnest(ARRAY['grant', 'revoke']) p
	 WHERE pg_temp.try_as('tap_manager', format('SELECT queue.%s(''priv_a'', %L, ''send'')', p, r))
		   NOT LIKE CASE WHEN r IS NULL THEN '22023: role must not be NULL'
						 ELSE '42704: role % does not exist' END$q$,
	'grant and revoke: names of no role (quoted, cased, with SQL, public, empty) are 42704, NULL is 22023');

CREATE TEMP TABLE tap_evil_roles (name name);
INSERT INTO tap_evil_roles VALUES
	($$tap_evil'; DROP TABLE public.tap_sentinel; --$$),
	('tap_evil"; DROP ROLE tap_stranger; --'),
	('Tap Mixed Case'),
	('tap_%s%I%L%1$s'),
	('tap_$$;$q$');
SELECT count(*) FROM (SELECT pg_temp.attempt(format('CREATE ROLE %I', name)) FROM tap_evil_roles) s;
GRANT SELECT ON tap_evil_roles TO PUBLIC;
SET ROLE tap_manager;
SELECT is_empty($$
	SELECT name, pg_temp.attempt(format('SELECT queue.grant(''priv_a'', %L, ''consume'')', name)) AS result
	  FROM tap_evil_roles
	 WHERE pg_temp.attempt(format('SELECT queue.grant(''priv_a'', %L, ''consume'')', name)) <> 'ok'$$,
	'manager: grant consume to roles with hostile names');
RESET ROLE;
SELECT set_eq($$SELECT name FROM tap_evil_roles
				 WHERE queue.has_queue_privilege((SELECT oid FROM pg_roles WHERE rolname = name)::regrole,
												 'priv_a', 'consume')$$,
			  $$SELECT name FROM tap_evil_roles$$,
			  '... each holds consume on priv_a');
SELECT set_eq($$SELECT grantee::text FROM queue.grants WHERE privilege = 'consume' AND queue_name = 'priv_a'
				 AND grantee::oid IN (SELECT oid FROM pg_roles WHERE rolname IN (SELECT name FROM tap_evil_roles))$$,
			  $$SELECT quote_ident(name) FROM tap_evil_roles$$,
			  '... and queue.grants names each of them');
SET ROLE tap_manager;
SELECT is_empty($$
	SELECT name, pg_temp.attempt(format('SELECT queue.revoke(''priv_a'', %L, ''consume'')', name)) AS result
	  FROM tap_evil_roles
	 WHERE pg_temp.attempt(format('SELECT queue.revoke(''priv_a'', %L, ''consume'')', name)) <> 'ok'$$,
	'manager: revoke consume from roles with hostile names');
RESET ROLE;
SELECT is_empty($$SELECT name FROM tap_evil_roles, pg_temp.acl_of(name, 'priv_a')$$,
	'... none of them holds anything on priv_a any more');

-- Privileges: only the three words
SELECT is_empty($q$
	SELECT p, f, pg_temp.try_as('tap_manager', format(f, p)) AS result
	  FROM unnest(ARRAY['send; x', 'SEND', ' send', 'send ', $$send'--$$, 'send,consume',
						'all', 'ALL PRIVILEGES', 'usage', '', NULL]) p,
		   unnest(ARRAY[$$SELECT queue.grant('priv_a', 'tap_other', %L)$$,
						$$SELECT queue.revoke('priv_a', 'tap_other', %L)$$,
						$$SELECT queue._check_access('priv_a', %L)$$]) f
	 WHERE pg_temp.try_as('tap_manager', format(f, p)) NOT LIKE '22023: %'$q$,
	'grant, revoke and _check_access refuse every other privilege string with 22023');
SELECT is_empty($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_a')$$,
	'... and granted nothing');

-- Keys, group keys, producers, reasons, headers: stored and returned verbatim
CREATE TEMP TABLE tap_hostile (n int, s text);
INSERT INTO tap_hostile VALUES
	(1, $$x'); DROP TABLE public.tap_sentinel; --$$),
	(2, $$x"; DROP TABLE public.tap_sentinel; --$$),
	(3, '$$; DROP TABLE public.tap_sentinel; $$'),
	(4, '%s %I %L %1$s %% %n'),
	(5, E'back\\slash \\'' quote'),
	(6, E'line\nbreak\ttab'),
	(7, ';'),
	(8, 'ключ 🔑'),
	(9, repeat(';''"', 300)),
	(10, 'DELETE FROM queue.registry'),
	(11, '*/ SELECT 1; /*');
SELECT queue.create('priv_inj', max_deliveries => 1);
SELECT queue.bind('t_priv_inj', 'priv_inj');
CREATE TEMP TABLE tap_sent AS
	SELECT n, s,
		   queue.send('priv_inj', jsonb_build_object('n', n, 'kind', 'single'),
					  headers => jsonb_build_object(s, s),
					  idempotency_key => s, group_key => s, producer => s, producer_seq => 1) AS id
	  FROM tap_hostile ORDER BY n;
SELECT is_empty($$
	SELECT n FROM tap_sent
	 WHERE queue.send('priv_inj', '{"kind": "again"}', idempotency_key => s) <> id$$,
	'a second send with each hostile idempotency key returns the first message''s id');
SELECT is_empty($$
	SELECT n FROM tap_sent
	 WHERE queue.send('priv_inj', '{"kind": "again"}', producer => s, producer_seq => 1) <> id$$,
	'a second send with each hostile producer and the same producer_seq returns the first id');
SELECT count(*) FROM (SELECT queue.send('priv_inj', jsonb_build_object('n', n, 'kind', 'seq3'),
										producer => s, producer_seq => 3) FROM tap_hostile) s;
SELECT set_eq($$SELECT * FROM queue.producer_gaps('priv_inj')$$,
			  $$SELECT s AS producer, 2::bigint AS missing_from, 2::bigint AS missing_to FROM tap_hostile$$,
			  'producer_gaps names each hostile producer verbatim');
SELECT count(*) FROM queue.send_batch('priv_inj',
	(SELECT array_agg(jsonb_build_object('n', n, 'kind', 'batch') ORDER BY n) FROM tap_hostile),
	idempotency_keys => (SELECT array_agg('b' || s ORDER BY n) FROM tap_hostile),
	group_keys => (SELECT array_agg(s ORDER BY n) FROM tap_hostile));
SELECT count(*) FROM (SELECT queue.publish('t_priv_inj', jsonb_build_object('n', n, 'kind', 'publish'),
										   idempotency_key => 'p' || s, group_key => s) FROM tap_hostile) s;
CREATE TEMP TABLE tap_got AS SELECT * FROM queue.read('priv_inj', 100, visibility_timeout => '1 hour');
SELECT set_eq($$SELECT (body->>'n')::int AS n, body->>'kind' AS kind, idempotency_key, group_key, headers FROM tap_got$$,
			  $$SELECT n, 'single' AS kind, s AS key, s AS grp, jsonb_build_object(s, s) AS headers FROM tap_hostile
				UNION ALL SELECT n, 'seq3', NULL, NULL, NULL FROM tap_hostile
				UNION ALL SELECT n, 'batch', 'b' || s, s, NULL FROM tap_hostile
				UNION ALL SELECT n, 'publish', 'p' || s, s, NULL FROM tap_hostile$$,
			  'send, send_batch and publish store hostile keys, group keys and headers verbatim');
SELECT is_empty($$
	SELECT g.id FROM tap_got g JOIN tap_hostile h ON h.n = (g.body->>'n')::int
	 WHERE g.body->>'kind' = 'single' AND NOT queue.nack('priv_inj', g.id, reason => h.s)$$,
	'nack with each hostile reason');
SELECT set_eq($$SELECT (body->>'n')::int AS n, reason, idempotency_key, group_key
				  FROM queue.dead_letters('priv_inj') WHERE body->>'kind' = 'single'$$,
			  $$SELECT n, s AS reason, s AS key, s AS grp FROM tap_hostile$$,
			  'dead_letters returns hostile reasons, keys and group keys verbatim');
SELECT is_empty($$
	SELECT g.id FROM tap_got g WHERE g.body->>'kind' = 'publish'
	   AND queue.extend('priv_inj', g.id, '2 hours') IS NULL$$,
	'extend works on the messages with hostile keys');

SELECT has_table('public', 'tap_sentinel', 'the sentinel table is still there after every injection attempt');
SELECT is((SELECT count(*)::int FROM pg_roles
			WHERE rolname IN ('tap_producer', 'tap_consumer', 'tap_manager', 'tap_creator',
							  'tap_stranger', 'tap_other')),
		  6, 'every role is still there');
SELECT set_eq($$SELECT queue_name FROM queue.registry$$,
			  $$SELECT queue_name FROM tap_registry_before
				UNION ALL SELECT unnest(ARRAY['priv_a', 'priv_b', 'priv_c', 'priv_c2', 'priv_d', 'priv_inj'])$$,
			  'no queue but those this file made on purpose was created');

-- =====================================================================
-- 6. Objects planted in schema queue
--
-- Creating a queue takes CREATE on schema queue (API.md), and with it the
-- right to create anything there.  A function planted next to the
-- extension's own is called instead of it wherever a call's argument
-- types fit the planted one better: an untyped literal ('...') prefers
-- text, an integer literal prefers integer.  Code called that way runs as
-- whoever made the call: the extension's owner inside an _impl.
--
-- Each case plants as tap_creator, makes one call as the victim, as in a
-- new session (DISCARD PLANS), and undoes both.
-- =====================================================================

-- What the victim's call did: 'ok' if it succeeded and no planted code
-- ran (or if tap_creator may not plant at all), else 'ran: <what> as
-- <role>, ...' or the call's 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.plant_and_call(plant text, victim name, call text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
	ran text;
BEGIN
	SET LOCAL ROLE tap_creator;
	BEGIN
		EXECUTE plant;
	EXCEPTION WHEN insufficient_privilege THEN
		RAISE EXCEPTION 'ok' USING ERRCODE = 'TAPOK';	-- undoes the SET ROLE
	END;
	-- as in a new session: statements the extension's PL/pgSQL functions
	-- prepared earlier in this one are analysed again
	DISCARD PLANS;
	EXECUTE format('SET LOCAL ROLE %I', victim);
	EXECUTE call;
	RESET ROLE;
	SELECT string_agg(format('%s as %s%s', p.what, p.who,
							 CASE WHEN r.rolsuper THEN ' (a superuser)' ELSE '' END),
					  ', ' ORDER BY p.what, p.who)
	  INTO ran
	  FROM public.tap_pwned p JOIN pg_roles r ON r.rolname = p.who;
	RAISE EXCEPTION '%', coalesce('ran: ' || ran, 'ok') USING ERRCODE = 'TAPOK';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	IF state = 'TAPOK' THEN
		RETURN msg;
	END IF;
	RETURN state || ': ' || msg;
END
$$;

-- A planted function that records who ran it.
CREATE FUNCTION pg_temp.planted(signature text, returns text, what text) RETURNS text
LANGUAGE sql AS $$
	SELECT format($f$CREATE FUNCTION queue.%s RETURNS %s LANGUAGE plpgsql AS $b$
		BEGIN
			INSERT INTO public.tap_pwned VALUES (current_user, %L);
			RETURN %s;
		END $b$ $f$, signature, returns, what,
		CASE WHEN returns IN ('void', 'record') THEN '' ELSE 'NULL' END)
$$;

SELECT is_empty($$
	SELECT label FROM (VALUES
		('a function', pg_temp.planted('tap_f()', 'void', 'f')),
		('an overload of queue.send', pg_temp.planted('send(text, text)', 'bigint', 'send')),
		('a table', 'CREATE TABLE queue.tap_t (x int)'),
		('a view', 'CREATE VIEW queue.tap_v AS SELECT 1 AS x'),
		('a type', 'CREATE TYPE queue.tap_type AS (x int)'),
		('an operator', 'CREATE OPERATOR queue.=== (FUNCTION = pg_catalog.int4eq, LEFTARG = int, RIGHTARG = int)')
		) p(label, sql)
	 WHERE pg_temp.try_as('tap_creator', sql) = 'ok'$$,
	'a role that may create queues cannot create other objects in schema queue');

SELECT is(pg_temp.plant_and_call(
			pg_temp.planted('_measured(relid integer, OUT sent_total bigint, OUT acked_total bigint, '
							'OUT dead_total bigint)', 'record', '_measured(integer)'),
			current_user, $$SELECT * FROM queue.stats('priv_a')$$),
		  'ok', 'the owner''s queue.stats never calls a queue._measured(integer) planted in schema queue');
SELECT is(pg_temp.plant_and_call(
			pg_temp.planted('_sweep_at(relid oid, due text)', 'void', '_sweep_at(oid, text)'),
			'tap_creator', $$SELECT queue.alter('priv_c2', visibility_timeout => '1 minute')$$),
		  'ok',
	'a creator''s queue.alter of its own queue never calls a queue._sweep_at(oid, text) it planted '
	'(which would run as the extension''s owner)');

SELECT is(pg_temp.plant_and_call('CREATE TABLE queue.q_priv_future (x int)',
			current_user, $$SELECT queue.create('priv_future')$$),
		  'ok', 'a queue name cannot be squatted by a table created in schema queue first');
SELECT is(pg_temp.plant_and_call(pg_temp.planted('send(queue_name text, body text)', 'bigint', 'send(text, text)'),
			current_user, $$SELECT queue.send('priv_a', '{"untyped": 1}')$$),
		  'ok', 'the owner''s queue.send(''priv_a'', ''{...}'') calls the extension''s send');
SELECT is(pg_temp.plant_and_call(pg_temp.planted('ack(queue_name text, id integer)', 'boolean', 'ack(text, integer)'),
			current_user, $$SELECT queue.ack('priv_a', 4)$$),
		  'ok', 'the owner''s queue.ack(''priv_a'', 4) calls the extension''s ack');
SELECT is(pg_temp.plant_and_call(pg_temp.planted('_check_name(name text)', 'void', '_check_name(text)'),
			current_user, $$SELECT queue.create('priv_e')$$),
		  'ok', 'the owner''s queue.create still works after a queue._check_name(text) is planted');
SELECT is(pg_temp.plant_and_call(
			pg_temp.planted('send(q text, b jsonb, h jsonb, d interval, k text, g text)', 'bigint', 'send(6 args)'),
			current_user, $$SELECT queue.publish('t_priv_a', '{}')$$),
		  'ok', 'the owner''s queue.publish still works after a 6-argument queue.send is planted');


-- =====================================================================
-- 7. Queue privileges are not table privileges (issue 12)
-- =====================================================================

-- Since section 3 the creator manages priv_c2, not priv_c.
UPDATE tap_holds SET queue_name = 'priv_c2' WHERE role = 'tap_creator';
INSERT INTO tap_queues VALUES (4, 'priv_c2');

-- The three attacks of issue 12, each refused with 42501 and changing
-- nothing.  (1) A producer inserts directly, with an id just ahead of the
-- sequence (other producers' sends would fail with 23505) and the
-- delivery_count, visible_at and priority it likes.
CREATE TEMP TABLE tap_before AS
	SELECT (SELECT count(*) FROM queue.q_priv_a) AS q,
		   (SELECT count(*) FROM queue.dl_priv_a) AS dl,
		   (SELECT count(*) FROM queue.k_priv_a) AS k,
		   (SELECT count(*) FROM queue.p_priv_a) AS p,
		   (SELECT last_value FROM queue.qseq_priv_a) AS seq;
GRANT SELECT ON tap_before TO PUBLIC;
SELECT is(pg_temp.attempt(format($$SET LOCAL ROLE tap_producer;
		INSERT INTO queue.q_priv_a (id, body, delivery_count, visible_at, priority)
		VALUES (%s, '{"forged": 1}', 0, now() - interval '1 year', 100)$$,
		(SELECT seq + 1 FROM tap_before))),
	'42501: permission denied for table q_priv_a',
	'attack 1: a producer cannot INSERT into q_ with an id ahead of the sequence');
RESET ROLE;
SELECT is(pg_temp.attempt($$SET LOCAL ROLE tap_producer;
		SELECT nextval('queue.qseq_priv_a')$$),
	'42501: permission denied for sequence qseq_priv_a',
	'attack 1: a producer cannot take ids from the sequence');
RESET ROLE;
-- (2) A producer reads and rewrites other producers' keys and sequence
-- numbers.
SELECT is(pg_temp.try_as('tap_producer', s.sql), s.expected, 'attack 2: a producer: ' || s.label)
  FROM (VALUES
	(1, 'SELECT from k_', $$SELECT * FROM queue.k_priv_a$$, '42501: permission denied for table k_priv_a'),
	(2, 'UPDATE k_', $$UPDATE queue.k_priv_a SET id = 1$$, '42501: permission denied for table k_priv_a'),
	(3, 'DELETE from k_', $$DELETE FROM queue.k_priv_a$$, '42501: permission denied for table k_priv_a'),
	(4, 'SELECT from p_', $$SELECT * FROM queue.p_priv_a$$, '42501: permission denied for table p_priv_a'),
	(5, 'UPDATE p_', $$UPDATE queue.p_priv_a SET seq = seq + 1000$$, '42501: permission denied for table p_priv_a'),
	(6, 'INSERT into p_', $$INSERT INTO queue.p_priv_a VALUES ('p1', 2, 1, now())$$,
	 '42501: permission denied for table p_priv_a')) s(ord, label, sql, expected)
 ORDER BY s.ord;
-- (3) A consumer forges dead letters, which a manager's redrive would
-- deliver as if they had been sent.
SELECT is(pg_temp.attempt($$SET LOCAL ROLE tap_consumer;
		INSERT INTO queue.dl_priv_a (id, body, delivery_count, enqueued_at)
		VALUES (900000, '{"forged": 3}', 1, now())$$),
	'42501: permission denied for table dl_priv_a',
	'attack 3: a consumer cannot INSERT forged dead letters');
RESET ROLE;
SET ROLE tap_manager;
SELECT is(queue.redrive('priv_a', ids => ARRAY[900000::bigint]), 0::bigint,
	'attack 3: ... so the manager''s redrive finds nothing to deliver');
RESET ROLE;
SELECT results_eq($$SELECT (SELECT count(*) FROM queue.q_priv_a), (SELECT count(*) FROM queue.dl_priv_a),
						   (SELECT count(*) FROM queue.k_priv_a), (SELECT count(*) FROM queue.p_priv_a)$$,
	$$SELECT q, dl, k, p FROM tap_before$$,
	'the attacks changed no table of priv_a');
SET ROLE tap_producer;
SELECT cmp_ok(queue.send('priv_a', '{"after the attacks": 1}'), '>', (SELECT seq FROM tap_before),
	'the producer still sends, through the function');
RESET ROLE;

-- has_queue_privilege: every role, queue and privilege, as tap_holds says
-- (manage includes send and consume; the owner holds everything)
SELECT set_eq($$
	SELECT r.role, q.queue_name, p.privilege
	  FROM tap_roles r, tap_queues q, unnest(ARRAY['send', 'consume', 'manage']) p(privilege)
	 WHERE queue.has_queue_privilege(r.role::regrole, q.queue_name, p.privilege)$$,
	$$SELECT h.role, h.queue_name, p.privilege
		FROM tap_holds h, unnest(ARRAY['send', 'consume', 'manage']) p(privilege)
	   WHERE h.privilege = p.privilege OR h.privilege = 'manage'$$,
	'has_queue_privilege(role, queue, privilege) answers what each role holds');
SELECT is_empty($$
	SELECT r.role, q.queue_name, p.privilege
	  FROM tap_roles r, tap_queues q, unnest(ARRAY['send', 'consume', 'manage']) p(privilege)
	 WHERE pg_temp.try_as(r.role, format('SELECT queue.has_queue_privilege(%L, %L) OR true',
										  q.queue_name, p.privilege)) <> 'ok'
		OR queue.has_queue_privilege(r.role::regrole, q.queue_name, p.privilege)
		   IS DISTINCT FROM (SELECT x FROM pg_temp.as_role_bool(r.role,
								format('SELECT queue.has_queue_privilege(%L, %L)', q.queue_name, p.privilege)) x)$$,
	'has_queue_privilege(queue, privilege) gives each role the same answer about itself');
SELECT ok(queue.has_queue_privilege(current_user::regrole, 'priv_c', 'manage'),
	'the owner holds manage on a queue another role created');
SELECT is(pg_temp.error_of($$SELECT queue.has_queue_privilege('priv_a', 'read')$$),
	'22023: unknown queue privilege "read" |  | The privileges are send, consume and manage.',
	'has_queue_privilege: 22023 for an unknown privilege');
SELECT is(pg_temp.attempt($$SELECT queue.has_queue_privilege('priv_missing', 'send')$$),
	'42704: queue "priv_missing" does not exist', 'has_queue_privilege: 42704 for a missing queue');
SELECT is(pg_temp.attempt($$SELECT queue.has_queue_privilege('tap_no_such_role', 'priv_a', 'send')$$),
	'42704: role "tap_no_such_role" does not exist', 'has_queue_privilege: 42704 for a missing role');
SELECT is(pg_temp.attempt($$SELECT queue.has_queue_privilege('Bad Name', 'send')$$),
	'22023: invalid queue name "Bad Name"', 'has_queue_privilege: 22023 for a bad queue name');
SELECT is(queue.has_queue_privilege(NULL, 'send'), NULL, 'has_queue_privilege: NULL in, NULL out');

-- What each role may see
SELECT set_eq(format($$SELECT queue_name FROM pg_temp.as_role_rows(%L,
						'SELECT queue_name FROM queue.queues') AS t(queue_name text)$$, r.role),
			  format($$SELECT queue_name FROM tap_holds WHERE role = %L$$, r.role),
			  format('%s: queue.queues shows the queues it holds a privilege on', r.role))
  FROM tap_roles r ORDER BY r.ord;
SELECT set_eq(format($$SELECT queue_name FROM pg_temp.as_role_rows(%L,
						'SELECT queue_name FROM queue.stats()') AS t(queue_name text)$$, r.role),
			  format($$SELECT queue_name FROM tap_holds WHERE role = %L AND privilege <> 'send'$$, r.role),
			  format('%s: stats() shows the queues it may consume from', r.role))
  FROM tap_roles r ORDER BY r.ord;

-- Role membership counts, and a change of it is seen at once
SELECT ok(NOT queue.has_queue_privilege('tap_other'::regrole, 'priv_a', 'consume'),
	'other: no consume on priv_a');
GRANT tap_consumer TO tap_other;
SELECT is(pg_temp.try_as('tap_other', $$SELECT count(*) FROM queue.read('priv_a', 1)$$), 'ok',
	'other, made a member of consumer: reads priv_a');
REVOKE tap_consumer FROM tap_other;
SELECT is(pg_temp.try_as('tap_other', $$SELECT count(*) FROM queue.read('priv_a', 1)$$),
	'42501: permission denied for queue "priv_a"',
	'other, no longer a member: read priv_a is refused (the cached privilege was invalidated)');

-- The anchor: DROP ROLE refuses a role with a queue privilege, DROP OWNED
-- ends it
CREATE ROLE tap_leaver;
SELECT queue.grant('priv_b', 'tap_leaver', 'send');
SELECT ok(queue.has_queue_privilege('tap_leaver'::regrole, 'priv_b', 'send'), 'leaver: send on priv_b');
SELECT is(pg_temp.error_of('DROP ROLE tap_leaver'),
	'2BP01: role "tap_leaver" cannot be dropped because some objects depend on it | '
	'privileges for sequence queue.qseq_priv_b | ',
	'DROP ROLE refuses a role that holds a queue privilege, naming its anchor');
DROP OWNED BY tap_leaver;
SELECT ok(NOT queue.has_queue_privilege('tap_leaver'::regrole, 'priv_b', 'send'),
	'after DROP OWNED BY leaver: no send on priv_b');
SELECT is(pg_temp.try_as('tap_leaver', $$SELECT queue.send('priv_b', '{}')$$),
	'42501: permission denied for queue "priv_b"', 'after DROP OWNED BY leaver: its send is refused');
SELECT is(pg_temp.attempt('DROP ROLE tap_leaver'), 'ok', '... and DROP ROLE succeeds');
SELECT queue.grant('priv_b', 'tap_other', 'send');
SELECT is_empty($$SELECT * FROM queue.grants WHERE grantee::oid NOT IN (SELECT oid FROM pg_roles)$$,
	'the next grant forgets the rows of roles that are gone');
SELECT queue.revoke('priv_b', 'tap_other', 'send');
SELECT is_empty($$SELECT * FROM pg_temp.acl_of('tap_other', 'priv_b')$$,
	'revoking a role''s last privilege on a queue takes the anchor back');

-- Naming a dead-letter queue needs send on it (as the caller): a manager
-- of one queue cannot pour its dead letters into a queue it may not send to
SELECT queue.create('priv_dl_src');
SELECT queue.create('priv_dl_dst');
CREATE ROLE tap_dl_manager;
SELECT queue.grant('priv_dl_src', 'tap_dl_manager', 'manage');
SELECT is(pg_temp.try_as('tap_dl_manager',
		$$SELECT queue.alter('priv_dl_src', dead_letter_queue => 'priv_dl_dst')$$),
	'42501: permission denied for queue "priv_dl_dst"',
	'alter: a dead-letter queue the caller may not send to is refused');
SELECT is(pg_temp.try_as('tap_creator',
		$$SELECT queue.create('priv_dl_new', dead_letter_queue => 'priv_dl_dst')$$),
	'42501: permission denied for queue "priv_dl_dst"',
	'create: a dead-letter queue the creator may not send to is refused');
SELECT queue.grant('priv_dl_dst', 'tap_dl_manager', 'send');
SELECT is(pg_temp.try_as('tap_dl_manager',
		$$SELECT queue.alter('priv_dl_src', dead_letter_queue => 'priv_dl_dst')$$),
	'ok', '... and accepted with send on it');
SELECT is(pg_temp.try_as('tap_dl_manager',
		$$SELECT queue.alter('priv_dl_src', dead_letter_queue => '')$$),
	'ok', 'taking it away needs only manage');

SELECT * FROM finish();
ROLLBACK;
