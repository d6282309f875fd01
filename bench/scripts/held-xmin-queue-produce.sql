-- held-xmin producer (queue side): one queue.send per transaction.
SELECT queue.send('hx', :body::jsonb);
