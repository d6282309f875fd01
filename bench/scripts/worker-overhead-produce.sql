-- worker-overhead producer: one queue.send per transaction, the body numbered
-- from the sequence seqno.  The number and the message id go to the ledger
-- `sent` in the same transaction, so `sent` holds exactly the sends that
-- committed (the checker's "sent" set).  -D body=... is the payload of bench/run.
--
-- Copyright (c) 2026, the queue authors
INSERT INTO sent (n, msg_id)
SELECT n, queue.send('wo', :body::jsonb || jsonb_build_object('p', n))
  FROM (SELECT nextval('seqno') AS n) s;
