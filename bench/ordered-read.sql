-- ordered-read benchmark: one reader's transaction.  Read one message, ack
-- it, and record the delivery (group, id, when it was handed out, when it
-- was done) in bench_deliveries, all in one transaction; the runner checks
-- afterwards that no group had two messages in flight at once and that
-- each group went in id order.  The same script runs against an unordered
-- queue (side A) and an ordered one (side B), named by -D q=...
--
-- Copyright (c) 2026, the queue authors
BEGIN;
SELECT id, group_key, clock_timestamp() AS t_read FROM queue.read(:q, 1) \gset
SELECT queue.ack(:q, :id::bigint);
INSERT INTO bench_deliveries (queue_name, group_key, id, t_read, t_done)
VALUES (:q, :group_key, :id, :t_read, clock_timestamp());
COMMIT;
