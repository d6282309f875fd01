--
-- volume: messages on full pages, through every call that changes a row.
-- A read, nack or extend updates the message's row; once its page has no
-- room left for the new version, the update is not HOT and every index of
-- the table gets a new entry (the primary key, and the priority index for
-- messages with a priority).  read_updates checks read alone, by counting
-- through the indexes; here nack, extend, a rolled-back read, ack and pop
-- follow, and amcheck verifies after each step that every index is a valid
-- btree holding every row of the table (heapallindexed).
--
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;
RESET client_min_messages;

-- every index of the table is a valid btree that holds every heap row
-- (amcheck raises an error when not)
CREATE FUNCTION pg_temp.indexes_ok(tab regclass) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	idx regclass;
BEGIN
	FOR idx IN SELECT indexrelid FROM pg_index WHERE indrelid = tab LOOP
		PERFORM bt_index_check(idx, true);
	END LOOP;
	RETURN true;
END
$$;

SELECT queue.create('full', max_deliveries => 0);
-- 300 messages of some 250 bytes, a tenth of them with a priority
SELECT count(*) AS sent
  FROM generate_series(1, 300) g,
	   LATERAL queue.send('full', jsonb_build_object('n', g, 'pad', repeat('x', 200)),
						  priority => CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END);
SELECT count(*) > 5 AS several_pages
  FROM (SELECT DISTINCT (ctid::text::point)[0] FROM queue.q_full) p;

-- read them all at once, twice: the first read moves most rows
SELECT count(*) AS handed, count(DISTINCT id) AS distinct_ids,
	   bool_and(delivery_count = 1) AS first_delivery,
	   bool_and(body ->> 'n' = id::text) AS bodies_ok
  FROM queue.read('full', 300, visibility_timeout => '0');
SELECT count(*) AS handed, bool_and(delivery_count = 2) AS second_delivery
  FROM queue.read('full', 300, visibility_timeout => '0');
-- priority first, then by id, through the moved rows
SELECT array_agg(id ORDER BY ord)
		 = ARRAY(SELECT 10 * g FROM generate_series(1, 30) g)::bigint[]
		   || ARRAY[1, 2, 3]::bigint[] AS in_order
  FROM queue.read('full', 33, visibility_timeout => '0') WITH ORDINALITY AS r(id, body, headers,
		delivery_count, enqueued_at, visible_at, group_key, idempotency_key, priority, ord);
SELECT pg_temp.indexes_ok('queue.q_full') AS indexes_ok;

-- nack and extend every one of them
SELECT count(*) FILTER (WHERE queue.nack('full', id, delay => '0')) AS nacked
  FROM queue.read('full', 300);
SELECT count(*) FILTER (WHERE queue.extend('full', id, '1 hour') IS NOT NULL) AS extended
  FROM queue.read('full', 300);
SELECT ready, in_flight, delayed FROM queue.stats('full', exact => true);
SELECT min(delivery_count), max(delivery_count) FROM queue.q_full;
SELECT pg_temp.indexes_ok('queue.q_full') AS indexes_ok;

-- twice in one transaction, and rolled back
SELECT count(*) FILTER (WHERE queue.nack('full', id, delay => '0')) AS nacked
  FROM generate_series(1, 300) id;
BEGIN;
SELECT count(*) AS handed FROM queue.read('full', 300, visibility_timeout => '0');
SELECT count(*) AS handed FROM queue.read('full', 300, visibility_timeout => '1 hour');
ROLLBACK;
SELECT ready, in_flight, delayed FROM queue.stats('full', exact => true);
SELECT pg_temp.indexes_ok('queue.q_full') AS indexes_ok;

-- ack and pop them all
SELECT queue.ack('full', array_agg(id)) AS acked
  FROM queue.q_full WHERE id % 2 = 0;
SELECT count(*) FILTER (WHERE queue.nack('full', id, delay => '0')) AS nacked
  FROM queue.q_full;
SELECT count(*) AS popped FROM queue.pop('full', 300);
SELECT count(*) AS left_over FROM queue.q_full;
SELECT sent_total, acked_total FROM queue.stats('full', exact => true);
SELECT queue.drop('full');
