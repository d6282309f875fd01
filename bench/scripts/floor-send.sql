-- send floor: one message per transaction into a plain table.
INSERT INTO raw_q(body) VALUES (:body);
