-- recv100: queue.read 100 messages, then ack the array in a second transaction.
--
-- Copyright (c) 2026, the queue authors
SELECT array_agg(id) AS ids FROM queue.read('bench', 100) \gset
SELECT queue.ack('bench', :ids::bigint[]);
