--
-- idempotency: send, send_batch and the idempotency_key.
--
-- A send whose key was used on the same queue within dedup_window (counted
-- from the first send, whether or not that message has since been acked,
-- dead-lettered or purged) enqueues nothing and returns the first message's
-- id.  Keys are per queue; duplicates within one batch collapse onto the
-- first; a key used in a transaction that rolls back is not remembered; the
-- worker forgets keys past the window, in bounded batches.
--
-- Ids are never shown: a claim may take an id from the sequence that no
-- message ends up with, so ids are compared with each other (saved with
-- \gset) and only booleans and counts are printed.
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

SELECT queue.create('idem');
SELECT queue.create('idem_other');

-- everything a send could write on queue idem, as one value
CREATE FUNCTION pg_temp.state() RETURNS text
LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(q::text, ',' ORDER BY q.id) FROM queue.q_idem q),
		(SELECT string_agg(k::text, ',' ORDER BY k.key) FROM queue.k_idem k),
		(SELECT string_agg(p::text, ',' ORDER BY p.producer, p.seq) FROM queue.p_idem p),
		(SELECT string_agg(d::text, ',' ORDER BY d.id) FROM queue.dl_idem d)))
$$;

--
-- a repeated key returns the first id and enqueues nothing, whatever the
-- body, headers, delay, group or priority of the repeat
--
SELECT queue.send('idem', '{"n": 1}', idempotency_key => 'k1') AS k1 \gset
SELECT queue.send('idem', '{"n": 2}', idempotency_key => 'k1') = :k1 AS same_id;
SELECT queue.send('idem', '{"n": 3}', headers => '{"h": 1}', delay => '1 hour',
				  idempotency_key => 'k1', group_key => 'g', priority => 7) = :k1 AS same_id;
SELECT count(*) AS messages FROM queue.q_idem;
SELECT id = :k1 AS first_id, body, headers, group_key, idempotency_key, priority,
	   visible_at <= now() AS visible
  FROM queue.q_idem;
-- another key is another message, with a later id
SELECT queue.send('idem', '{"n": 4}', idempotency_key => 'k2') AS k2 \gset
SELECT :k2 > :k1 AS later_id;
SELECT count(*) AS messages FROM queue.q_idem;
-- no key: never deduplicated
SELECT queue.send('idem', '{"n": 5}') <> queue.send('idem', '{"n": 5}') AS two_ids;
SELECT count(*) AS messages FROM queue.q_idem;

--
-- keys are per queue: the same key on another queue is a new message there
--
SELECT queue.send('idem_other', '{"other": 1}', idempotency_key => 'k1') AS other_k1 \gset
SELECT queue.send('idem_other', '{"other": 2}', idempotency_key => 'k1') = :other_k1 AS same_id;
SELECT count(*) AS other_messages FROM queue.q_idem_other;
SELECT count(*) AS messages FROM queue.q_idem;

--
-- the first message in flight, acked, dead-lettered, purged or archived:
-- the key still returns it and nothing is enqueued
--
SELECT id = :k1 AS got_k1, delivery_count FROM queue.read('idem', 1);
SELECT queue.send('idem', '{"again": 1}', idempotency_key => 'k1') = :k1 AS same_id_in_flight;
SELECT delivery_count, visible_at > now() AS still_in_flight FROM queue.q_idem WHERE id = :k1;
SELECT queue.ack('idem', :k1::bigint);
SELECT queue.send('idem', '{"again": 2}', idempotency_key => 'k1') = :k1 AS same_id_acked;
SELECT count(*) AS k1_messages FROM queue.q_idem WHERE idempotency_key = 'k1';

SELECT queue.create('idem_dl', max_deliveries => 1);
SELECT queue.send('idem_dl', '{"d": 1}', idempotency_key => 'kd') AS kd \gset
SELECT id = :kd AS got_kd FROM queue.read('idem_dl', 1);
SELECT queue.nack('idem_dl', :kd::bigint, reason => 'poison');
SELECT id = :kd AS dead_kd, reason FROM queue.dead_letters('idem_dl');
SELECT queue.send('idem_dl', '{"d": 2}', idempotency_key => 'kd') = :kd AS same_id_dead;
SELECT ready, in_flight, delayed, dead FROM queue.stats('idem_dl', exact => true);
-- redriven, it is the same message again, and the key still points at it
SELECT queue.redrive('idem_dl');
SELECT queue.send('idem_dl', '{"d": 3}', idempotency_key => 'kd') = :kd AS same_id_redriven;
SELECT count(*) AS messages, bool_and(id = :kd) AS is_kd FROM queue.q_idem_dl;

SELECT queue.send('idem_dl', '{"p": 1}', idempotency_key => 'kp') AS kp \gset
SELECT queue.purge('idem_dl');
SELECT queue.send('idem_dl', '{"p": 2}', idempotency_key => 'kp') = :kp AS same_id_purged;
SELECT queue.send('idem_dl', '{"p": 3}', idempotency_key => 'kd') = :kd AS same_id_purged;
SELECT count(*) AS messages FROM queue.q_idem_dl;

SELECT queue.create('idem_ar', retention => '1 day');
SELECT queue.send('idem_ar', '{"a": 1}', idempotency_key => 'ka') AS ka \gset
SELECT queue.ack('idem_ar', id) FROM queue.read('idem_ar', 1);
SELECT queue.send('idem_ar', '{"a": 2}', idempotency_key => 'ka') = :ka AS same_id_archived;
SELECT ready, archived FROM queue.stats('idem_ar', exact => true);
-- pop (at-most-once) consumes it; the key is still remembered
SELECT queue.send('idem_ar', '{"a": 3}', idempotency_key => 'kpop') AS kpop \gset
SELECT id = :kpop AS popped FROM queue.pop('idem_ar', 1);
SELECT queue.send('idem_ar', '{"a": 4}', idempotency_key => 'kpop') = :kpop AS same_id_popped;
SELECT ready, archived FROM queue.stats('idem_ar', exact => true);

--
-- within one transaction the second send sees the first's claim
--
BEGIN;
SELECT queue.send('idem', '{"t": 1}', idempotency_key => 'kt') AS kt \gset
SELECT queue.send('idem', '{"t": 2}', idempotency_key => 'kt') = :kt AS same_id;
COMMIT;
SELECT count(*) AS kt_messages FROM queue.q_idem WHERE idempotency_key = 'kt';

--
-- a key used in a transaction that rolls back is not remembered, nor one
-- used in a rolled-back savepoint or in a statement that failed
--
BEGIN;
SELECT queue.send('idem', '{"r": 1}', idempotency_key => 'kr') > 0 AS sent;
ROLLBACK;
SELECT count(*) AS kr_keys FROM queue.k_idem WHERE key = 'kr';
SELECT queue.send('idem', '{"r": 2}', idempotency_key => 'kr') AS kr \gset
SELECT body FROM queue.q_idem WHERE id = :kr;
SELECT count(*) AS kr_messages FROM queue.q_idem WHERE idempotency_key = 'kr';

BEGIN;
SAVEPOINT s;
SELECT queue.send('idem', '{"s": 1}', idempotency_key => 'ks') > 0 AS sent;
ROLLBACK TO SAVEPOINT s;
SELECT queue.send('idem', '{"s": 2}', idempotency_key => 'ks') AS ks \gset
COMMIT;
SELECT body, id = :ks AS is_ks FROM queue.q_idem WHERE idempotency_key = 'ks';

-- the send succeeded, the statement failed after it
SELECT queue.send('idem', '{"f": 1}', idempotency_key => 'kf'), 1 / 0;
SELECT count(*) AS kf_keys FROM queue.k_idem WHERE key = 'kf';
SELECT queue.send('idem', '{"f": 2}', idempotency_key => 'kf') AS kf \gset
SELECT body FROM queue.q_idem WHERE id = :kf;

--
-- send_batch: each key is claimed in input order; a key repeated in the
-- batch, or already used, returns the first id; NULL keys are never
-- deduplicated
--
SELECT array_agg(id ORDER BY n) AS b
  FROM queue.send_batch('idem',
		ARRAY['{"b": 1}', '{"b": 2}', '{"b": 3}', '{"b": 4}', '{"b": 5}',
			  '{"b": 6}', '{"b": 7}']::jsonb[],
		idempotency_keys => ARRAY['bx', 'by', 'bx', NULL, NULL, 'k2', 'by'])
	   WITH ORDINALITY AS t(id, n) \gset
SELECT cardinality(:'b'::bigint[]) AS ids,
	   (:'b'::bigint[])[1] = (:'b'::bigint[])[3] AS x_collapsed,
	   (:'b'::bigint[])[2] = (:'b'::bigint[])[7] AS y_collapsed,
	   (:'b'::bigint[])[1] <> (:'b'::bigint[])[2] AS x_is_not_y,
	   (:'b'::bigint[])[4] <> (:'b'::bigint[])[5] AS nulls_distinct,
	   (:'b'::bigint[])[6] = :k2 AS k2_is_first_send,
	   (SELECT count(DISTINCT u) FROM unnest(:'b'::bigint[]) u) AS distinct_ids;
-- four new messages, the first of each key kept, in input order
SELECT array_position(:'b'::bigint[], id) AS first_at, body, idempotency_key
  FROM queue.q_idem WHERE id = ANY (:'b'::bigint[]) AND id <> :k2
 ORDER BY id;
-- the batch again: every keyed id comes back; only the two messages
-- without a key are new
SELECT count(*) AS messages FROM queue.q_idem \gset before_
SELECT n, id = (:'b'::bigint[])[n] AS same_id, id > (:'b'::bigint[])[5] AS new_id
  FROM queue.send_batch('idem',
		ARRAY['{"b": 1}', '{"b": 2}', '{"b": 3}', '{"b": 4}', '{"b": 5}',
			  '{"b": 6}', '{"b": 7}']::jsonb[],
		idempotency_keys => ARRAY['bx', 'by', 'bx', NULL, NULL, 'k2', 'by'])
	   WITH ORDINALITY AS t(id, n)
 ORDER BY n;
SELECT count(*) - :before_messages AS new_messages FROM queue.q_idem;
-- a single send of a batch's key returns the batch's id
SELECT queue.send('idem', '{}', idempotency_key => 'by') = (:'b'::bigint[])[2] AS same_id;
-- keys together with group keys, headers and a delay
SELECT array_agg(id ORDER BY n) AS g
  FROM queue.send_batch('idem', ARRAY['{"g": 1}', '{"g": 2}']::jsonb[],
		headers => ARRAY['{"h": 1}', NULL]::jsonb[], delay => '1 hour',
		idempotency_keys => ARRAY['gk', 'gk'], group_keys => ARRAY['ga', 'gb'])
	   WITH ORDINALITY AS t(id, n) \gset
SELECT (:'g'::bigint[])[1] = (:'g'::bigint[])[2] AS collapsed;
SELECT body, headers, group_key, idempotency_key, visible_at = enqueued_at + interval '1 hour' AS delayed
  FROM queue.q_idem WHERE id = (:'g'::bigint[])[1];

--
-- the window counts from the first send: a duplicate does not extend it
--
SELECT created_at AS k2_created FROM queue.k_idem WHERE key = 'k2' \gset
SELECT queue.send('idem', '{}', idempotency_key => 'k2') = :k2 AS same_id;
SELECT created_at = :'k2_created' AS not_refreshed FROM queue.k_idem WHERE key = 'k2';

--
-- a key older than dedup_window is claimed again: a new message, a new id,
-- which the window then protects; the old message is left alone
--
UPDATE queue.k_idem SET created_at = created_at - interval '5 minutes 1 second'
 WHERE key = 'k2';
SELECT queue.send('idem', '{"n": "k2 again"}', idempotency_key => 'k2') AS k2b \gset
SELECT :k2b <> :k2 AS new_id, :k2b > :k2 AS later_id;
SELECT queue.send('idem', '{}', idempotency_key => 'k2') = :k2b AS same_new_id;
SELECT id = :k2 AS old, body FROM queue.q_idem WHERE idempotency_key = 'k2' ORDER BY id;
-- just inside the window it is still a duplicate
UPDATE queue.k_idem SET created_at = now() - interval '4 minutes 50 seconds'
 WHERE key = 'k2';
SELECT queue.send('idem', '{}', idempotency_key => 'k2') = :k2b AS same_id;
-- the window follows queue.alter
SELECT queue.alter('idem', dedup_window => '1 hour');
UPDATE queue.k_idem SET created_at = now() - interval '30 minutes' WHERE key = 'k2';
SELECT queue.send('idem', '{}', idempotency_key => 'k2') = :k2b AS same_id_longer_window;
SELECT queue.alter('idem', dedup_window => '10 minutes');
SELECT queue.send('idem', '{"n": "k2 third"}', idempotency_key => 'k2') <> :k2b AS new_id_shorter_window;
SELECT count(*) AS k2_messages FROM queue.q_idem WHERE idempotency_key = 'k2';
SELECT queue.alter('idem', dedup_window => '5 minutes');

--
-- the worker forgets keys past the window, at most batch per queue and
-- step, and keeps the others.  The keys are aged in this transaction, so
-- the background worker (which does not see the change) leaves them to
-- the steps run here.
--
SELECT count(*) FROM queue.send_batch('idem_other', ARRAY['{}', '{}', '{}', '{}', '{}', '{}']::jsonb[],
		idempotency_keys => ARRAY['w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
BEGIN;
UPDATE queue.k_idem_other SET created_at = created_at - interval '1 hour'
 WHERE key IN ('w1', 'w2', 'w3', 'w4', 'w5');
SELECT forgotten >= 2 AS forgot FROM queue._worker_step(2);
SELECT count(*) AS aged_left FROM queue.k_idem_other WHERE key IN ('w1', 'w2', 'w3', 'w4', 'w5');
SELECT forgotten >= 2 AS forgot FROM queue._worker_step(2);
SELECT count(*) AS aged_left FROM queue.k_idem_other WHERE key IN ('w1', 'w2', 'w3', 'w4', 'w5');
SELECT forgotten >= 1 AS forgot FROM queue._worker_step(2);
SELECT key FROM queue.k_idem_other ORDER BY key;
COMMIT;
-- the messages stay; a forgotten key makes a new message, a kept one does not
SELECT count(*) AS messages FROM queue.q_idem_other WHERE idempotency_key LIKE 'w_';
SELECT queue.send('idem_other', '{"w1": "again"}', idempotency_key => 'w1') AS w1b \gset
SELECT count(*) AS w1_messages FROM queue.q_idem_other WHERE idempotency_key = 'w1';
SELECT queue.send('idem_other', '{}', idempotency_key => 'w1') = :w1b AS same_id;
SELECT id AS w6 FROM queue.q_idem_other WHERE idempotency_key = 'w6' \gset
SELECT queue.send('idem_other', '{}', idempotency_key => 'w6') = :w6 AS kept_w6;

--
-- failing calls claim no key and write nothing
--
SELECT pg_temp.state() AS base \gset
SELECT c AS call, pg_temp.try(c) AS result
  FROM unnest(ARRAY[
	'SELECT queue.send(''idem'', NULL, idempotency_key => ''e1'')',
	'SELECT queue.send(''idem'', ''{}'', headers => ''[1]'', idempotency_key => ''e1'')',
	'SELECT queue.send(''idem'', ''{}'', delay => ''-1 second'', idempotency_key => ''e1'')',
	'SELECT queue.send(''idem'', to_jsonb(repeat(''x'', 1100000)), idempotency_key => ''e1'')',
	'SELECT queue.send(''idem'', ''{}'', idempotency_key => ''e1'', producer => ''p'')',
	'SELECT queue.send(''Idem'', ''{}'', idempotency_key => ''e1'')',
	'SELECT queue.send(''idem_nope'', ''{}'', idempotency_key => ''e1'')',
	'SELECT queue.send_batch(''idem'', ARRAY[''{}'', ''{}'']::jsonb[], idempotency_keys => ARRAY[''e1''])',
	'SELECT queue.send_batch(''idem'', ARRAY[''{}'', ''{}'']::jsonb[], idempotency_keys => ARRAY[''e1'', ''e2'', ''e3''])',
	'SELECT queue.send_batch(''idem'', ARRAY[''{}'', NULL]::jsonb[], idempotency_keys => ARRAY[''e1'', ''e2''])',
	'SELECT queue.send_batch(''idem'', ARRAY[''{}'', ''{}'']::jsonb[], headers => ARRAY[NULL, ''"s"'']::jsonb[], idempotency_keys => ARRAY[''e1'', ''e2''])',
	'SELECT queue.send_batch(''idem'', ARRAY[''{}'', ''{}'']::jsonb[], idempotency_keys => ARRAY[''e1'', ''e2''], group_keys => ARRAY[''g''])',
	'SELECT queue.send_batch(''idem'', ARRAY[''{}'', ''{}'']::jsonb[], idempotency_keys => ARRAY[[''e1''], [''e2'']])',
	'SELECT queue.send_batch(''idem'', array_fill(''{}''::jsonb, ARRAY[1001]), idempotency_keys => array_fill(''e''::text, ARRAY[1001]))',
	'SELECT queue.send_batch(''idem_nope'', ARRAY[''{}'']::jsonb[], idempotency_keys => ARRAY[''e1''])'
	]) AS c;
SELECT pg_temp.state() = :'base' AS nothing_written;
SELECT count(*) AS e_keys FROM queue.k_idem WHERE key LIKE 'e_';

SELECT queue.drop('idem');
SELECT queue.drop('idem_other');
SELECT queue.drop('idem_dl');
SELECT queue.drop('idem_ar');
