--
-- management: queue.create, queue.alter, queue.drop, queue.purge and the
-- queue.queues view.
--
\set VERBOSITY terse

-- the view lists every option by name (created_at is compared, not shown)
CREATE FUNCTION pg_temp.options(name text)
RETURNS TABLE (visibility_timeout interval, max_deliveries integer,
			   retry_delay interval, retry_delay_max interval,
			   dedup_window interval, retention interval, ordered boolean,
			   unlogged boolean)
LANGUAGE sql AS $$
	SELECT visibility_timeout, max_deliveries, retry_delay, retry_delay_max,
		   dedup_window, retention, ordered, unlogged
	  FROM queue.queues WHERE queue_name = name
$$;

-- the persistence of a queue's three tables ('p' logged, 'u' unlogged)
CREATE FUNCTION pg_temp.persistence(name text)
RETURNS TABLE (relname name, relpersistence "char")
LANGUAGE sql AS $$
	SELECT c.relname, c.relpersistence FROM pg_class c
	 WHERE c.relnamespace = 'queue'::regnamespace
	   AND c.relname IN ('q_' || name, 'dl_' || name, 'a_' || name)
	 ORDER BY c.relname
$$;

SELECT column_name, data_type
  FROM information_schema.columns
 WHERE table_schema = 'queue' AND table_name = 'queues'
 ORDER BY ordinal_position;

--
-- create with the defaults
--
SELECT queue.create('plain');
SELECT * FROM pg_temp.options('plain');
SELECT created_at <= now() AS created_at_ok, created_at > now() - interval '1 hour' AS recent
  FROM queue.queues WHERE queue_name = 'plain';
SELECT * FROM pg_temp.persistence('plain');

--
-- create with every option
--
SELECT queue.create('everything',
					visibility_timeout => '2 minutes',
					max_deliveries => 9,
					retry_delay => '3 seconds',
					retry_delay_max => '1 hour',
					dedup_window => '10 minutes',
					retention => '7 days',
					ordered => true,
					unlogged => true,
					if_not_exists => false);
SELECT * FROM pg_temp.options('everything');
SELECT * FROM pg_temp.persistence('everything');

-- max_deliveries 0 (never dead-letter) and zero durations are allowed
SELECT queue.create('zeroes', visibility_timeout => '0', max_deliveries => 0,
					retry_delay => '0', retry_delay_max => '0', dedup_window => '0');
SELECT * FROM pg_temp.options('zeroes');

-- retention '0' keeps nothing: the same as none
SELECT queue.create('no_retention', retention => '0');
SELECT retention IS NULL AS retention_is_null FROM pg_temp.options('no_retention');

--
-- option validation: each failure leaves no queue behind
--
SELECT queue.create('bad', visibility_timeout => '-1 second');
SELECT queue.create('bad', max_deliveries => -1);
SELECT queue.create('bad', retry_delay => '-1 second');
SELECT queue.create('bad', retry_delay_max => '-1 second');
SELECT queue.create('bad', retry_delay => '10 seconds', retry_delay_max => '-5 seconds');
SELECT queue.create('bad', dedup_window => '-1 second');
SELECT queue.create('bad', retention => '-1 day');
\set VERBOSITY sqlstate
SELECT queue.create('bad', visibility_timeout => '-1 second');
SELECT queue.create('bad', max_deliveries => -1);
SELECT queue.create('bad', retry_delay_max => '-1 second');
SELECT queue.create('bad', retention => '-1 day');
\set VERBOSITY terse
SELECT count(*) AS bad_queues FROM queue.queues WHERE queue_name = 'bad';
SELECT count(*) AS bad_tables FROM pg_class
 WHERE relnamespace = 'queue'::regnamespace AND relname IN ('q_bad', 'dl_bad', 'a_bad');

-- retry_delay_max below retry_delay is allowed: it caps every retry
SELECT queue.create('capped', retry_delay => '10 seconds', retry_delay_max => '5 seconds');
SELECT retry_delay, retry_delay_max FROM pg_temp.options('capped');
SELECT queue.drop('capped');

--
-- create of an existing queue: 42710, or a notice with if_not_exists
--
SELECT queue.create('plain');
\set VERBOSITY sqlstate
SELECT queue.create('plain');
\set VERBOSITY terse
-- if_not_exists leaves the existing queue and its messages alone
SELECT queue.send('plain', '{"kept": true}');
SELECT queue.create('plain', visibility_timeout => '5 minutes', if_not_exists => true);
SELECT visibility_timeout FROM pg_temp.options('plain');
SELECT count(*) AS queues_named_plain FROM queue.queues WHERE queue_name = 'plain';
SELECT body FROM queue.read('plain');
-- if_not_exists on a new queue creates it
SELECT queue.create('fresh', if_not_exists => true);
SELECT count(*) AS fresh_exists FROM queue.queues WHERE queue_name = 'fresh';

--
-- alter: options left NULL keep their value
--
SELECT queue.alter('everything');
SELECT * FROM pg_temp.options('everything');
SELECT queue.alter('everything', visibility_timeout => '45 seconds');
SELECT * FROM pg_temp.options('everything');
SELECT queue.alter('everything', max_deliveries => 3, retry_delay => '2 seconds',
				   retry_delay_max => '30 minutes', dedup_window => '1 minute',
				   retention => '1 day');
SELECT * FROM pg_temp.options('everything');
SELECT queue.alter('everything', visibility_timeout => NULL, max_deliveries => NULL,
				   retry_delay => NULL, retry_delay_max => NULL, dedup_window => NULL,
				   retention => NULL, ordered => NULL, unlogged => NULL);
SELECT * FROM pg_temp.options('everything');

-- retention '0' turns archiving off again
SELECT queue.alter('everything', retention => '0');
SELECT retention IS NULL AS retention_is_null FROM pg_temp.options('everything');
SELECT queue.alter('everything', retention => '1 hour');
SELECT retention FROM pg_temp.options('everything');

-- alter validates like create and changes nothing when it fails
SELECT queue.alter('everything', visibility_timeout => '-1 second');
SELECT queue.alter('everything', max_deliveries => -1);
SELECT queue.alter('everything', retry_delay => '-1 second');
SELECT queue.alter('everything', retry_delay_max => '-1 second');
SELECT queue.alter('everything', retry_delay => '2 hours', retry_delay_max => '-1 second');
SELECT queue.alter('everything', dedup_window => '-1 second');
SELECT queue.alter('everything', retention => '-1 second');
SELECT queue.alter('everything', visibility_timeout => '1 hour', max_deliveries => -1);
\set VERBOSITY sqlstate
SELECT queue.alter('everything', retry_delay_max => '-1 second');
SELECT queue.alter('everything', retention => '-1 second');
SELECT queue.alter('no_such_queue', visibility_timeout => '1 second');
\set VERBOSITY terse
SELECT * FROM pg_temp.options('everything');

-- retry_delay above retry_delay_max is allowed, from either side
SELECT queue.alter('everything', retry_delay => '2 hours');
SELECT retry_delay, retry_delay_max FROM pg_temp.options('everything');
SELECT queue.alter('everything', retry_delay => '2 seconds', retry_delay_max => '1 second');
SELECT retry_delay, retry_delay_max FROM pg_temp.options('everything');
SELECT queue.alter('everything', retry_delay_max => '30 minutes');
SELECT * FROM pg_temp.options('everything');

--
-- ordered: allowed on an empty queue, refused on a non-empty one
--
SELECT queue.alter('fresh', ordered => true);
SELECT ordered FROM pg_temp.options('fresh');
SELECT queue.alter('fresh', ordered => false);
SELECT ordered FROM pg_temp.options('fresh');
SELECT queue.send('fresh', '{"n": 1}');
SELECT queue.alter('fresh', ordered => true);
SELECT ordered FROM pg_temp.options('fresh');
-- setting it to the value it already has is no change, hence allowed
SELECT queue.alter('fresh', ordered => false);
-- a message in flight counts too
SELECT id FROM queue.read('fresh');
SELECT queue.alter('fresh', ordered => true);
SELECT ordered FROM pg_temp.options('fresh');
-- once drained it is allowed again
SELECT queue.ack('fresh', 1);
SELECT queue.alter('fresh', ordered => true);
SELECT ordered FROM pg_temp.options('fresh');

--
-- unlogged: create and alter; altering keeps the messages
--
SELECT queue.create('persist');
SELECT queue.send('persist', '{"n": 1}');
SELECT queue.alter('persist', unlogged => true);
SELECT unlogged FROM pg_temp.options('persist');
SELECT * FROM pg_temp.persistence('persist');
SELECT body FROM queue.read('persist', visibility_timeout => '0');
SELECT queue.alter('persist', unlogged => false);
SELECT unlogged FROM pg_temp.options('persist');
SELECT * FROM pg_temp.persistence('persist');
SELECT body FROM queue.read('persist', visibility_timeout => '0');

--
-- purge: removes the messages, ready, in flight and delayed alike, and
-- returns how many; dead letters stay
--
SELECT queue.create('purged', max_deliveries => 1);
SELECT count(*) AS sent FROM queue.send_batch('purged',
	ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[]);
SELECT queue.send('purged', '{"n": 5}', delay => '1 hour');
SELECT id FROM queue.read('purged');
SELECT id FROM queue.read('purged');
SELECT queue.nack('purged', 2);
SELECT queue_name, ready, in_flight, delayed, dead FROM queue.stats('purged', exact => true);
SELECT queue.purge('purged');
SELECT queue_name, ready, in_flight, delayed, dead FROM queue.stats('purged', exact => true);
SELECT id FROM queue.dead_letters('purged');
SELECT queue.purge('purged');
SELECT queue.purge('no_such_queue');
\set VERBOSITY sqlstate
SELECT queue.purge('no_such_queue');
\set VERBOSITY terse
-- the queue still works after a purge, and ids keep increasing
SELECT queue.send('purged', '{"n": 6}');

--
-- drop and if_exists
--
SELECT queue.drop('purged');
SELECT count(*) AS purged_rows FROM queue.queues WHERE queue_name = 'purged';
SELECT count(*) AS purged_tables FROM pg_class
 WHERE relnamespace = 'queue'::regnamespace
   AND relname IN ('q_purged', 'dl_purged', 'a_purged');
SELECT queue.drop('purged');
\set VERBOSITY sqlstate
SELECT queue.drop('purged');
\set VERBOSITY terse
SELECT queue.drop('purged', if_exists => true);
SELECT queue.drop('persist', if_exists => true);
SELECT queue.send('persist', '{}');
-- a dropped queue can be created again, empty, with ids from 1
SELECT queue.create('persist');
SELECT * FROM pg_temp.options('persist');
SELECT queue.send('persist', '{"again": true}');
SELECT queue_name, ready, in_flight, delayed, dead, archived FROM queue.stats('persist', exact => true);

--
-- the queues view: one row per queue (those of this test)
--
SELECT queue_name, visibility_timeout, max_deliveries, retry_delay,
	   retry_delay_max, dedup_window, retention, ordered, unlogged
  FROM queue.queues
 WHERE queue_name = ANY (ARRAY['everything', 'fresh', 'no_retention', 'persist', 'plain', 'zeroes'])
 ORDER BY queue_name;

SELECT queue.drop(queue_name) FROM queue.queues
 WHERE queue_name = ANY (ARRAY['everything', 'fresh', 'no_retention', 'persist', 'plain', 'zeroes'])
 ORDER BY queue_name;
SELECT count(*) AS queues_left FROM queue.queues
 WHERE queue_name = ANY (ARRAY['everything', 'fresh', 'no_retention', 'persist', 'plain', 'zeroes']);
SELECT count(*) AS tables_left FROM pg_class
 WHERE relnamespace = 'queue'::regnamespace
   AND relname ~ '^(q|dl|a)_(everything|fresh|no_retention|persist|plain|zeroes)$';
