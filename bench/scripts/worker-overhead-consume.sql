-- worker-overhead consumer: in one transaction read 1 message (visibility
-- timeout 1 s), record it in `processed`, ack it; then roll back with
-- probability rollback_pct % (-D rollback_pct=10), else commit.  A rolled-back
-- read is a failed delivery the worker counts (deliveries.c); a committed one
-- has processed and acked the message exactly once.
--
-- Copyright (c) 2026, the queue authors
\set r random(1, 100)
BEGIN;
SELECT id, (body->>'p') AS n FROM queue.read('wo', 1, '1 second') \gset
INSERT INTO processed (msg_id, n) VALUES (:id, :n);
SELECT queue.ack('wo', :id::bigint);
\if :r <= :rollback_pct
ROLLBACK;
\else
COMMIT;
\endif
