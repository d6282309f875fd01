-- idempotency benchmark, side A: a plain send, one per transaction.
SELECT queue.send('bench', :body::jsonb);
