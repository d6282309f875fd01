-- send: one queue.send per transaction.
--
-- Copyright (c) 2026, the queue authors
SELECT queue.send('bench', :body::jsonb);
