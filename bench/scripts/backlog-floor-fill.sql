-- backlog fill (floor side): 1000 messages in one INSERT, one transaction.
INSERT INTO raw_q(body) SELECT :body::jsonb FROM generate_series(1, 1000);
