-- held-xmin consumer (floor side): bench/run's recv floor (take the oldest
-- visible row and hide it for 30 s, then delete it: two transactions), with
-- an empty take giving id 0 and no delete, so the run goes on when the
-- backlog runs dry.
--
-- Copyright (c) 2026, the queue authors
WITH m AS (
  UPDATE raw_q SET visible_at = now() + '30s', delivery_count = delivery_count + 1
   WHERE id = (SELECT id FROM raw_q WHERE visible_at <= now()
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id)
SELECT coalesce((SELECT id FROM m), 0) AS id \gset
\if :id > 0
DELETE FROM raw_q WHERE id = :id;
\endif
