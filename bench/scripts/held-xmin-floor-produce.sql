-- held-xmin producer (floor side): one INSERT per transaction.
--
-- Copyright (c) 2026, the queue authors
INSERT INTO raw_q(body) VALUES (:body);
