--
-- expiry: a queue's message_ttl; a message not acked that long after it
-- was sent is not handed out any more, and the worker moves it to the dead
-- letters with reason 'expired' (or to the dead-letter queue, or drops it
-- with drop_expired).  A message in flight is left to its consumer.  The
-- race of an ack with the worker is in
-- test/isolation/specs/queue_expiry_ack.spec.
--
\set VERBOSITY terse

SELECT queue.create('ttl_q', message_ttl => '1 second', visibility_timeout => '1 hour');
SELECT message_ttl, drop_expired FROM queue.queues WHERE queue_name = 'ttl_q';
SELECT count(*) AS sent FROM (
	SELECT queue.send('ttl_q', jsonb_build_object('n', n)) FROM generate_series(1, 3) n) s;
SELECT id AS in_flight FROM queue.read('ttl_q', 1) \gset
SELECT pg_sleep(1.2);

-- expired: not handed out, even before the worker comes
SELECT count(*) AS read_expired FROM queue.read('ttl_q', 10);
SELECT count(*) AS popped_expired FROM queue.pop('ttl_q', 10);

-- the worker: to the dead letters, not the one in flight
SELECT count(*) >= 0 AS stepped FROM queue._worker_step(100);
SELECT body->>'n' AS n, reason FROM queue.dead_letters('ttl_q') ORDER BY id;
SELECT count(*) AS left FROM queue.q_ttl_q;
-- its consumer may still ack it
SELECT queue.ack('ttl_q', :in_flight);
SELECT dead, dead_total FROM queue.stats('ttl_q', exact => true);

-- redrive gives them a new life: enqueued now, readable
SELECT queue.redrive('ttl_q');
SELECT count(*) AS read_after_redrive FROM queue.read('ttl_q', 10);
SELECT queue.purge('ttl_q') >= 0 AS purged;

-- drop_expired: gone, no dead letter
SELECT queue.alter('ttl_q', drop_expired => true);
SELECT queue.send('ttl_q', '{"n": 4}') > 0 AS sent;
SELECT pg_sleep(1.2);
SELECT count(*) >= 0 AS stepped FROM queue._worker_step(100);
SELECT count(*) AS left, (SELECT count(*) FROM queue.dead_letters('ttl_q')) AS dead
  FROM queue.q_ttl_q;

-- with a dead-letter queue: there, with reason 'expired'
SELECT queue.create('ttl_dlq');
SELECT queue.alter('ttl_q', drop_expired => false, dead_letter_queue => 'ttl_dlq');
SELECT queue.send('ttl_q', '{"n": 5}') > 0 AS sent;
SELECT pg_sleep(1.2);
SELECT count(*) >= 0 AS stepped FROM queue._worker_step(100);
SELECT body->>'n' AS n, headers->'dead_letter'->>'reason' AS reason
  FROM queue.read('ttl_dlq', 10);

-- 0 takes the ttl away: the messages stay
SELECT queue.alter('ttl_q', message_ttl => '0');
SELECT message_ttl FROM queue.queues WHERE queue_name = 'ttl_q';
SELECT queue.send('ttl_q', '{"n": 6}') > 0 AS sent;
SELECT count(*) AS read_without_ttl FROM queue.read('ttl_q', 10);

-- a message's own ttl (send, send_batch, publish): kept in the header
-- queue_expires_at, on a queue with or without a message_ttl
SELECT queue.create('ttl_own', visibility_timeout => '1 hour');
SELECT queue.send('ttl_own', '{"n": 1}', ttl => '1 second') AS own1 \gset
SELECT count(*) AS sent FROM queue.send_batch('ttl_own', ARRAY['{"n": 2}', '{"n": 3}']::jsonb[],
	headers => ARRAY['{"h": 1}', NULL]::jsonb[], ttl => '1 second');
SELECT queue.send('ttl_own', '{"n": 4}') > 0 AS sent_without_ttl;
SELECT queue.bind('ttl_topic', 'ttl_own');
SELECT queue.publish('ttl_topic', '{"n": 5}', ttl => '1 second');
SELECT body->>'n' AS n, headers ? 'queue_expires_at' AS has_expiry, headers->>'h' AS h,
       (headers->>'queue_expires_at')::timestamptz - enqueued_at BETWEEN '0.9 seconds' AND '1.1 seconds' AS in_a_second
  FROM queue.q_ttl_own ORDER BY id;
SELECT pg_sleep(1.2);
SELECT body->>'n' AS n FROM queue.read('ttl_own', 10);
SELECT count(*) >= 0 AS stepped FROM queue._worker_step(100);
SELECT body->>'n' AS n, reason FROM queue.dead_letters('ttl_own') ORDER BY id;
-- a time given in the header yourself counts the same; it must be a time
SELECT queue.send('ttl_own', '{"n": 6}', headers => '{"queue_expires_at": "2000-01-01T00:00:00+00:00"}') > 0 AS sent;
SELECT count(*) AS read_expired FROM queue.read('ttl_own', 10);
SELECT queue.send('ttl_own', '{"n": 7}', headers => '{"queue_expires_at": "soon"}');
SELECT queue.send('ttl_own', '{"n": 7}', headers => '{"queue_expires_at": 5}');
SELECT queue.send('ttl_own', '{"n": 7}', ttl => '-1 second');
SELECT queue.unbind('ttl_topic', 'ttl_own');
SELECT queue.drop('ttl_own');

-- errors: 22023, nothing changes
SELECT queue.create('ttl_bad', message_ttl => '-1 second');
SELECT queue.create('ttl_bad', message_ttl => '101 years');
SELECT queue.alter('ttl_q', message_ttl => '-1 second');
SELECT count(*) AS no_bad_queue FROM queue.queues WHERE queue_name = 'ttl_bad';

SELECT queue.alter('ttl_q', dead_letter_queue => '');
SELECT queue.drop('ttl_q');
SELECT queue.drop('ttl_dlq');
