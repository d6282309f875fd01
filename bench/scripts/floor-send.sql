-- send floor: one message per transaction into a plain table.
--
-- Copyright (c) 2026, the queue authors
INSERT INTO raw_q(body) VALUES (:body);
