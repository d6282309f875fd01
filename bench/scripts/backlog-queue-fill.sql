-- backlog fill (queue side): one queue.send_batch of 1000 per transaction
-- (the ids are counted server-side, not sent to the client).
--
-- Copyright (c) 2026, the queue authors
SELECT count(*) FROM queue.send_batch('bl', array_fill(:body::jsonb, ARRAY[1000]));
