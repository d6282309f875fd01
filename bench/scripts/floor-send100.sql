-- send100 floor: 100 messages in one INSERT statement, one transaction.
-- The 100 bodies are built server-side from one parameter, as on the queue side.
--
-- Copyright (c) 2026, the queue authors
INSERT INTO raw_q(body) SELECT :body::jsonb FROM generate_series(1, 100);
