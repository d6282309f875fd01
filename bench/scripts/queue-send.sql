-- send: one queue.send per transaction.
SELECT queue.send('bench', :body::jsonb);
