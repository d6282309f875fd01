-- idempotency benchmark, side B: a send with an idempotency key, unique per
-- message (a per-client counter, so no two messages share one, after a
-- random part, so keys land all over the key index as real ones would).
-- bench/run-exactly-once passes -D n=0.
--
-- Copyright (c) 2026, the queue authors
\set n :n + 1
\set r random(1, 999999999999)
SELECT queue.send('bench', :body::jsonb,
                  idempotency_key => :r::text || '-' || :client_id::text || '-' || :n::text);
