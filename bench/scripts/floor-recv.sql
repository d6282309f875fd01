-- recv floor: take one message with a 30 s visibility timeout, then delete it
-- (two transactions, as a consumer that acks after processing).
--
-- Copyright (c) 2026, the queue authors
UPDATE raw_q SET visible_at = now() + '30s', delivery_count = delivery_count + 1
 WHERE id = (SELECT id FROM raw_q WHERE visible_at <= now()
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id \gset
DELETE FROM raw_q WHERE id = :id;
