-- held-xmin consumer (queue side): read one message (transaction 1), ack it
-- (transaction 2).  An empty read (the backlog ran dry) gives id 0 and no
-- ack, so the run goes on; the runner counts acked messages from the table's
-- deletes (pg_stat_user_tables.n_tup_del), not from pgbench's transactions.
--
-- Copyright (c) 2026, the queue authors
SELECT coalesce((SELECT id FROM queue.read('hx', 1)), 0) AS id \gset
\if :id > 0
SELECT queue.ack('hx', :id::bigint);
\endif
