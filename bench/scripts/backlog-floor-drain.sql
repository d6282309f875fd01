-- backlog drain (floor side): bench/run's recv100 floor (take 100 with a 30 s
-- visibility timeout, then delete them: two transactions); a take that finds
-- nothing (only at the very end) deletes nothing.
--
-- Copyright (c) 2026, the queue authors
WITH m AS (
  UPDATE raw_q SET visible_at = now() + '30s', delivery_count = delivery_count + 1
   WHERE id = ANY (ARRAY(SELECT id FROM raw_q WHERE visible_at <= now()
                         ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED))
  RETURNING id)
SELECT coalesce(array_agg(id), '{}') AS ids, count(*) AS n FROM m \gset
\if :n > 0
DELETE FROM raw_q WHERE id = ANY (:ids::bigint[]);
\endif
