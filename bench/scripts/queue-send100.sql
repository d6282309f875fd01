-- send100: one queue.send_batch of 100 bodies per transaction.
--
-- Copyright (c) 2026, the queue authors
SELECT queue.send_batch('bench', array_fill(:body::jsonb, ARRAY[100]));
