-- held-xmin producer (queue side): one queue.send per transaction.
--
-- Copyright (c) 2026, the queue authors
SELECT queue.send('hx', :body::jsonb);
