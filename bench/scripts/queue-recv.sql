-- recv: queue.read one message, then queue.ack it in a second transaction.
--
-- Copyright (c) 2026, the queue authors
SELECT id FROM queue.read('bench', 1) \gset
SELECT queue.ack('bench', :id::bigint);
