-- recv100 floor: take 100 messages with a 30 s visibility timeout in one
-- statement, then delete the 100 ids in one statement (two transactions).
-- The ids come back as one array (pgbench's \gset needs exactly one row).
--
-- Copyright (c) 2026, the queue authors
WITH m AS (
  UPDATE raw_q SET visible_at = now() + '30s', delivery_count = delivery_count + 1
   WHERE id = ANY (ARRAY(SELECT id FROM raw_q WHERE visible_at <= now()
                         ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED))
  RETURNING id)
SELECT array_agg(id) AS ids FROM m \gset
DELETE FROM raw_q WHERE id = ANY (:ids::bigint[]);
