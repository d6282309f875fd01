--
-- dead_letter_queue: a queue's dead letters go to another queue as new
-- messages, with a "dead_letter" header saying where from and why; the
-- built-in dead letters and redrive are left for queues without one.
--
\set VERBOSITY terse

SELECT queue.create('dlq_target');
SELECT queue.create('dlq_src', max_deliveries => 1, dead_letter_queue => 'dlq_target',
                    visibility_timeout => '1 hour');
SELECT dead_letter_queue FROM queue.queues WHERE queue_name = 'dlq_src';

-- a nack of the last delivery: to the other queue
SELECT queue.send('dlq_src', '{"order": 1}', headers => '{"trace": "t-1"}',
                  group_key => 'g', priority => 0) AS id1 \gset
SELECT count(*) AS taken FROM queue.read('dlq_src', 1);
SELECT queue.nack('dlq_src', :id1, reason => 'bad order');
SELECT count(*) AS left_in_source FROM queue.q_dlq_src;
SELECT count(*) AS own_dead_letters FROM queue.dead_letters('dlq_src');
SELECT dead_total FROM queue.stats('dlq_src');
SELECT body, group_key, headers->>'trace' AS trace,
       headers->'dead_letter'->>'queue' AS from_queue,
       (headers->'dead_letter'->>'id')::bigint = :id1 AS same_id,
       headers->'dead_letter'->>'reason' AS reason,
       headers->'dead_letter'->>'delivery_count' AS deliveries,
       headers->'dead_letter' ? 'enqueued_at' AND headers->'dead_letter' ? 'dead_at' AS has_times
  FROM queue.read('dlq_target', 10);

-- the worker's dead letters too (a last delivery whose timeout ran out)
SELECT queue.alter('dlq_src', visibility_timeout => '10 milliseconds');
SELECT queue.send('dlq_src', '{"order": 2}') AS id2 \gset
SELECT count(*) AS taken FROM queue.read('dlq_src', 1);
SELECT pg_sleep(0.05);
SELECT count(*) >= 0 AS stepped FROM queue._worker_step(100);
SELECT body, headers->'dead_letter'->>'reason' AS reason
  FROM queue.read('dlq_target', 10);
SELECT count(*) AS left_in_source FROM queue.q_dlq_src;

-- a message the other queue refuses (too big with the header) stays in
-- the queue's own dead letters, saying why
SELECT queue.alter('dlq_src', visibility_timeout => '1 hour');
SELECT queue.send('dlq_src', '{"order": 3}') AS id3 \gset
SELECT count(*) AS taken FROM queue.read('dlq_src', 1);
SET queue.max_message_size = 150;
SELECT queue.nack('dlq_src', :id3, reason => 'too big');
RESET queue.max_message_size;
SELECT body, reason LIKE 'too big (dead-letter queue "dlq_target" refused it: headers is % bytes, more than queue.max_message_size (150 bytes))' AS reason_ok
  FROM queue.dead_letters('dlq_src');
SELECT count(*) AS in_target FROM queue.q_dlq_target;

-- errors, and nothing changes
SELECT queue.create('dlq_bad', dead_letter_queue => 'dlq_missing');
SELECT queue.create('dlq_bad', dead_letter_queue => 'Bad Name');
SELECT queue.create('dlq_bad', dead_letter_queue => 'dlq_bad');
SELECT count(*) AS no_bad_queue FROM queue.queues WHERE queue_name = 'dlq_bad';
SELECT queue.alter('dlq_src', dead_letter_queue => 'dlq_src');
-- a chain is fine, a cycle is not
SELECT queue.create('dlq_last');
SELECT queue.alter('dlq_target', dead_letter_queue => 'dlq_last');
SELECT queue.alter('dlq_last', dead_letter_queue => 'dlq_src');
SELECT queue_name, dead_letter_queue FROM queue.queues
 WHERE queue_name LIKE 'dlq%' ORDER BY 1;
-- a queue that is another's dead-letter queue cannot be dropped
SELECT queue.drop('dlq_target');
-- '' sends the dead letters to the queue's own again
SELECT queue.alter('dlq_src', dead_letter_queue => '');
SELECT queue.purge('dlq_src') >= 0 AS purged;
SELECT dead_letter_queue IS NULL AS own_again FROM queue.queues WHERE queue_name = 'dlq_src';
SELECT queue.drop('dlq_src');
SELECT queue.drop('dlq_target');
SELECT queue.drop('dlq_last');
