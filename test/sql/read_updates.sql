--
-- read updates each message it hands out.  When the page has no room for
-- the new version, the update is not HOT and every index gets a new entry;
-- this exercises that path (it once crashed) and checks that nothing is
-- lost or duplicated through it.
--
\set VERBOSITY terse
SELECT queue.create('ru', visibility_timeout => '0 seconds', max_deliveries => 0);
SELECT count(*) AS sent
  FROM queue.send_batch('ru', (SELECT array_agg(jsonb_build_object('n', g, 'pad', repeat('x', 200)))
                                 FROM generate_series(1, 1000) g));
-- a few priority messages, so that the partial index is updated too
SELECT count(*) AS sent_high
  FROM queue.send_batch('ru', (SELECT array_agg(jsonb_build_object('n', g))
                                 FROM generate_series(1001, 1050) g), priority => 5);
-- hand the first 1000 messages (by priority, then id) out ten times
DO $$
BEGIN
	FOR round IN 1..5 LOOP
		PERFORM count(*) FROM queue.read('ru', 1000);
		PERFORM count(*) FROM queue.read('ru', 1000);
	END LOOP;
END
$$;
SELECT count(*) AS messages, count(DISTINCT id) AS distinct_ids,
       min(delivery_count) AS min_deliveries, max(delivery_count) AS max_deliveries
  FROM queue.q_ru;
-- the indexes agree with the table
SET enable_seqscan = off;
SELECT count(*) AS by_pkey FROM queue.q_ru WHERE id > 0;
SELECT count(*) AS by_priority_index FROM queue.q_ru WHERE priority > 0;
RESET enable_seqscan;
SELECT queue.ack('ru', (SELECT array_agg(id) FROM queue.q_ru WHERE id <= 1000)) AS acked;
SELECT queue.ack('ru', (SELECT array_agg(id) FROM queue.q_ru WHERE id > 1000)) AS acked;
SELECT count(*) AS left_over FROM queue.q_ru;
SELECT queue.drop('ru');
