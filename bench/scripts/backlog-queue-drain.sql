-- backlog drain (queue side): queue.read 100, then ack the array (two
-- transactions); a read that finds nothing (only at the very end) acks nothing.
--
-- Copyright (c) 2026, the queue authors
SELECT coalesce(array_agg(id), '{}') AS ids, count(*) AS n FROM queue.read('bl', 100) \gset
\if :n > 0
SELECT queue.ack('bl', :ids::bigint[]);
\endif
