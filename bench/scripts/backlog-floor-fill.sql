-- backlog fill (floor side): 1000 messages in one INSERT, one transaction.
--
-- Copyright (c) 2026, the queue authors
INSERT INTO raw_q(body) SELECT :body::jsonb FROM generate_series(1, 1000);
