--
-- pause: queue.pause and queue.resume.  While a queue is paused, sends are
-- accepted, reads and pops return nothing (also with a wait, which sleeps
-- it out), acks and nacks of messages handed out before still work, and
-- queue.queues shows it; resume makes the messages readable again.
--
\set VERBOSITY terse

SELECT queue.create('pz', visibility_timeout => '1 hour');
SELECT queue.send('pz', '{"n": 1}') AS id1 \gset
SELECT queue.send('pz', '{"n": 2}') AS id2 \gset
SELECT id = :id1 AS first_handed_out FROM queue.read('pz', 1);

-- pause: true the first time, false when already paused
SELECT queue.pause('pz') AS paused;
SELECT queue.pause('pz') AS paused_again;
SELECT queue_name, paused FROM queue.queues WHERE queue_name = 'pz';

-- sends are accepted
SELECT queue.send('pz', '{"n": 3}') > :id2 AS sent_while_paused;
SELECT count(*) AS sent_batch FROM queue.send_batch('pz', ARRAY['{"n": 4}', '{"n": 5}']::jsonb[]);

-- reads and pops take nothing, with or without a wait
SELECT count(*) AS read_while_paused FROM queue.read('pz', 10);
SELECT count(*) AS popped_while_paused FROM queue.pop('pz', 10);
SELECT count(*) AS read_with_wait FROM queue.read('pz', 10, wait => '50 milliseconds');

-- the message handed out before the pause can still be acked
SELECT queue.ack('pz', :id1) AS acked;
SELECT ready FROM queue.stats('pz', exact => true);

-- in one transaction the pause is seen at once, and undone by a rollback
SELECT queue.resume('pz') AS resumed;
BEGIN;
SELECT queue.pause('pz') AS paused_in_transaction;
SELECT count(*) AS read_in_transaction FROM queue.read('pz', 10);
ROLLBACK;
SELECT queue_name, paused FROM queue.queues WHERE queue_name = 'pz';

-- resumed: everything is readable, in order
SELECT queue.resume('pz') AS resumed_again;
SELECT body FROM queue.read('pz', 10) ORDER BY id;

-- errors
SELECT queue.pause('pz_missing');
SELECT queue.resume('Bad Name');
SELECT queue.pause(NULL);

SELECT queue.drop('pz');
