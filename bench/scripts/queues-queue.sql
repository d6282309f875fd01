-- queues (queue side): on a queue drawn at random from :nq queues named
-- :qp || 1 .. :qp || :nq (-D qp=q -D nq=1000: q1 .. q1000; -D qp=s -D nq=1:
-- the one queue s1), send one message, then read one and ack it: three
-- transactions, one message sent and one acked.  An empty read (the queue
-- ran dry) acks nothing; the runner counts them.
--
-- Copyright (c) 2026, the queue authors
\set q random(1, :nq)
SELECT queue.send(:qp::text || :q, :body::jsonb);
SELECT coalesce((SELECT id FROM queue.read(:qp::text || :q, 1)), 0) AS id \gset
\if :id > 0
SELECT queue.ack(:qp::text || :q, :id::bigint);
\endif
