--
-- producers: loss detection with send's producer and producer_seq.
--
-- A repeated (producer, producer_seq) on a queue is a duplicate: it
-- enqueues nothing and returns the first id.  queue.producer_gaps lists,
-- per producer and as inclusive ranges, the numbers between its lowest and
-- highest seen that never arrived.  State is per queue and producer, and
-- forgotten (by the worker) only for producers silent for dedup_window.
-- producer without producer_seq, or the reverse, is 22023; nothing is
-- written when a call fails.
--
-- Ids are compared, never shown (a claim may use up an id).
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

SELECT queue.create('prod');
SELECT queue.create('prod_other');

-- everything a send could write on queue prod, as one value
CREATE FUNCTION pg_temp.state() RETURNS text
LANGUAGE sql AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(q::text, ',' ORDER BY q.id) FROM queue.q_prod q),
		(SELECT string_agg(k::text, ',' ORDER BY k.key) FROM queue.k_prod k),
		(SELECT string_agg(p::text, ',' ORDER BY p.producer, p.seq) FROM queue.p_prod p)))
$$;

-- no producer has sent: no gaps
SELECT * FROM queue.producer_gaps('prod');

--
-- a producer numbering 1, 2, 3 ... with none lost has no gaps; a repeated
-- number returns the first id and enqueues nothing, whatever its body
--
SELECT queue.send('prod', '{"seq": 1}', producer => 'p1', producer_seq => 1) AS p1_1 \gset
SELECT queue.send('prod', '{"seq": 2}', producer => 'p1', producer_seq => 2) AS p1_2 \gset
SELECT queue.send('prod', '{"seq": 3}', producer => 'p1', producer_seq => 3) AS p1_3 \gset
SELECT :p1_1 < :p1_2 AND :p1_2 < :p1_3 AS increasing;
SELECT * FROM queue.producer_gaps('prod');
SELECT queue.send('prod', '{"seq": "2 again"}', producer => 'p1', producer_seq => 2) = :p1_2 AS same_id;
SELECT queue.send('prod', '{"seq": "1 again"}', headers => '{"h": 1}', delay => '1 hour',
				  group_key => 'g', priority => 3, producer => 'p1', producer_seq => 1) = :p1_1 AS same_id;
SELECT count(*) AS messages FROM queue.q_prod;
SELECT body, headers, group_key, priority, visible_at <= now() AS visible
  FROM queue.q_prod ORDER BY id;

--
-- gaps: the numbers between the lowest and highest seen that never
-- arrived, as inclusive ranges, per producer, in order
--
SELECT count(*) FROM (
	SELECT queue.send('prod', jsonb_build_object('seq', s), producer => 'p1', producer_seq => s)
	  FROM unnest(ARRAY[5, 9, 10, 11, 20]::bigint[]) s) t;
SELECT * FROM queue.producer_gaps('prod');
-- a late arrival fills its gap, whole or in part
SELECT queue.send('prod', '{"seq": 4}', producer => 'p1', producer_seq => 4) > 0 AS sent;
SELECT queue.send('prod', '{"seq": 7}', producer => 'p1', producer_seq => 7) > 0 AS sent;
SELECT * FROM queue.producer_gaps('prod');
-- numbers before a producer's lowest are not gaps (it may have started
-- there); large numbers make large ranges
SELECT queue.send('prod', '{}', producer => 'p2', producer_seq => 1000) > 0 AS sent;
SELECT queue.send('prod', '{}', producer => 'p2', producer_seq => 1001) > 0 AS sent;
SELECT queue.send('prod', '{}', producer => 'p2', producer_seq => 1000000000000) > 0 AS sent;
SELECT * FROM queue.producer_gaps('prod');
-- acked, dead-lettered or purged, a message's number still counts
SELECT queue.purge('prod');
SELECT * FROM queue.producer_gaps('prod');
SELECT queue.send('prod', '{}', producer => 'p1', producer_seq => 3) = :p1_3 AS same_id_purged;
SELECT count(*) AS messages FROM queue.q_prod;

--
-- producers are independent: the same number from two producers is two
-- messages; and numbers are per queue
--
SELECT queue.send('prod', '{"from": "a"}', producer => 'pa', producer_seq => 1) AS pa_1 \gset
SELECT queue.send('prod', '{"from": "b"}', producer => 'pb', producer_seq => 1) AS pb_1 \gset
SELECT :pa_1 <> :pb_1 AS distinct_ids;
SELECT queue.send('prod_other', '{"other": 1}', producer => 'pa', producer_seq => 1) > 0 AS sent;
SELECT queue.send('prod_other', '{"other": 3}', producer => 'pa', producer_seq => 3) > 0 AS sent;
SELECT count(*) AS other_messages FROM queue.q_prod_other;
SELECT * FROM queue.producer_gaps('prod_other');
SELECT * FROM queue.producer_gaps('prod') WHERE producer IN ('pa', 'pb');
-- producer names are taken as they are (case, spaces)
SELECT queue.send('prod', '{}', producer => 'PA', producer_seq => 1) <> :pa_1 AS distinct_ids;
SELECT queue.send('prod', '{}', producer => 'worker 7/eu-west', producer_seq => 1) > 0 AS sent;
SELECT queue.send('prod', '{}', producer => 'worker 7/eu-west', producer_seq => 3) > 0 AS sent;
SELECT * FROM queue.producer_gaps('prod') WHERE producer NOT IN ('p1', 'p2');

--
-- a number sent in a transaction that rolls back never arrived: it is a
-- gap, and sending it again makes a message
--
SELECT queue.send('prod', '{}', producer => 'pr', producer_seq => 1) > 0 AS sent;
BEGIN;
SELECT queue.send('prod', '{"rolled": "back"}', producer => 'pr', producer_seq => 2) > 0 AS sent;
ROLLBACK;
SELECT queue.send('prod', '{}', producer => 'pr', producer_seq => 3) > 0 AS sent;
SELECT * FROM queue.producer_gaps('prod') WHERE producer = 'pr';
SELECT queue.send('prod', '{"seq": 2}', producer => 'pr', producer_seq => 2) AS pr_2 \gset
SELECT body FROM queue.q_prod WHERE id = :pr_2;
SELECT * FROM queue.producer_gaps('prod') WHERE producer = 'pr';
-- within one transaction a repeat is a duplicate already
BEGIN;
SELECT queue.send('prod', '{}', producer => 'pr', producer_seq => 4) AS pr_4 \gset
SELECT queue.send('prod', '{}', producer => 'pr', producer_seq => 4) = :pr_4 AS same_id;
COMMIT;
SELECT count(*) AS pr_messages FROM queue.q_prod q JOIN queue.p_prod p ON p.id = q.id
 WHERE p.producer = 'pr';

--
-- with an idempotency key as well: a repeated key returns the first
-- message, and its number then counts as arrived; a repeated number
-- returns its first message whatever the key
--
SELECT queue.send('prod', '{"n": 1}', idempotency_key => 'ik1', producer => 'pk', producer_seq => 1) AS pk_1 \gset
SELECT queue.send('prod', '{"n": 2}', idempotency_key => 'ik1', producer => 'pk', producer_seq => 2) = :pk_1 AS same_id_by_key;
SELECT queue.send('prod', '{"n": 3}', producer => 'pk', producer_seq => 3) > 0 AS sent;
SELECT * FROM queue.producer_gaps('prod') WHERE producer = 'pk';
SELECT queue.send('prod', '{"n": 2}', producer => 'pk', producer_seq => 2) = :pk_1 AS seq_2_is_first;
SELECT queue.send('prod', '{"n": 1}', idempotency_key => 'ik_other', producer => 'pk', producer_seq => 1) = :pk_1 AS same_id_by_seq;
SELECT count(*) AS pk_messages FROM queue.q_prod WHERE body ? 'n';

--
-- the worker forgets producers silent for dedup_window, all their numbers,
-- and keeps producers that sent within it, all their numbers (even ones
-- older than the window).  The rows are aged in this transaction, so the
-- background worker, which does not see the change, leaves them to the
-- steps run here.
--
SELECT queue.create('prod_w', dedup_window => '1 hour');
SELECT count(*) FROM (
	SELECT queue.send('prod_w', '{}', producer => p, producer_seq => s)
	  FROM unnest(ARRAY['silent', 'active']) p, unnest(ARRAY[1, 2, 4, 5]::bigint[]) s) t;
SELECT * FROM queue.producer_gaps('prod_w');
BEGIN;
UPDATE queue.p_prod_w SET seen_at = seen_at - interval '2 hours' WHERE producer = 'silent';
UPDATE queue.p_prod_w SET seen_at = seen_at - interval '2 hours' WHERE producer = 'active' AND seq < 5;
-- just under the window is not silent enough
UPDATE queue.p_prod_w SET seen_at = now() - interval '59 minutes' WHERE producer = 'active' AND seq = 5;
SELECT forgotten >= 4 AS forgot FROM queue._worker_step(1000);
SELECT producer, count(*) AS numbers FROM queue.p_prod_w GROUP BY producer ORDER BY 1;
SELECT * FROM queue.producer_gaps('prod_w');
COMMIT;
-- a forgotten producer starts afresh: its old numbers make new messages
SELECT count(*) AS messages FROM queue.q_prod_w;
SELECT queue.send('prod_w', '{}', producer => 'silent', producer_seq => 1) > 0 AS sent;
SELECT queue.send('prod_w', '{}', producer => 'silent', producer_seq => 3) > 0 AS sent;
SELECT count(*) AS messages FROM queue.q_prod_w;
SELECT * FROM queue.producer_gaps('prod_w');
-- a kept one still knows its numbers
SELECT id AS active_1 FROM queue.p_prod_w WHERE producer = 'active' AND seq = 1 \gset
SELECT queue.send('prod_w', '{}', producer => 'active', producer_seq => 1) = :active_1 AS same_id;
SELECT count(*) AS messages FROM queue.q_prod_w;
SELECT queue.drop('prod_w');

--
-- errors: producer and producer_seq go together; bad and unknown queue
-- names; nothing is written
--
SELECT pg_temp.state() AS base \gset
SELECT c AS call, pg_temp.try(c) AS result
  FROM unnest(ARRAY[
	'SELECT queue.send(''prod'', ''{}'', producer => ''p9'')',
	'SELECT queue.send(''prod'', ''{}'', producer_seq => 1)',
	'SELECT queue.send(''prod'', ''{}'', producer => ''p9'', producer_seq => NULL)',
	'SELECT queue.send(''prod'', ''{}'', producer => NULL, producer_seq => 1)',
	'SELECT queue.send(''prod'', ''{}'', idempotency_key => ''e'', producer => ''p9'')',
	'SELECT queue.send(''prod'', NULL, producer => ''p9'', producer_seq => 1)',
	'SELECT queue.send(''prod'', ''{}'', headers => ''1'', producer => ''p9'', producer_seq => 1)',
	'SELECT queue.send(''prod'', ''{}'', delay => ''-1 day'', producer => ''p9'', producer_seq => 1)',
	'SELECT queue.send(''prod_nope'', ''{}'', producer => ''p9'', producer_seq => 1)',
	'SELECT queue.producer_gaps(''prod_nope'')',
	'SELECT queue.producer_gaps(''Prod'')',
	'SELECT queue.producer_gaps('''')',
	'SELECT queue.producer_gaps(NULL)',
	'SELECT queue.producer_gaps(repeat(''p'', 49))'
	]) AS c;
SELECT pg_temp.state() = :'base' AS nothing_written;
-- a statement that fails after the send: the number did not arrive
SELECT queue.send('prod', '{}', producer => 'p9', producer_seq => 1), 1 / 0;
SELECT pg_temp.state() = :'base' AS nothing_written;

SELECT queue.drop('prod');
SELECT queue.drop('prod_other');
