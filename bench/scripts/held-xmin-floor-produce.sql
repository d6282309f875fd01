-- held-xmin producer (floor side): one INSERT per transaction.
INSERT INTO raw_q(body) VALUES (:body);
