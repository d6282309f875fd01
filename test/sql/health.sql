--
-- health: queue.health's findings about a queue (the worker's and the xmin
-- horizon's depend on the cluster; test/t/017_health.pl covers them).
--
\set VERBOSITY terse

SELECT queue.create('hz', max_deliveries => 1);
SELECT queue.send('hz', '{"n": 1}') AS id1 \gset
SELECT queue.send('hz', '{"n": 2}') > 0 AS sent;

-- a queue just filled: nothing to say about it
SELECT count(*) AS findings FROM queue.health() WHERE queue_name = 'hz';

-- the oldest ready message against max_ready_age
SELECT severity, queue_name, finding, figure >= 0 AS has_figure,
       detail LIKE 'the oldest ready message (id ' || :id1 || ') has waited %' AS detail_ok
  FROM queue.health(max_ready_age => '0') WHERE queue_name = 'hz';

-- a message dead-lettered in the last hour
SELECT count(*) AS handed_out FROM queue.read('hz', 1);
SELECT queue.nack('hz', :id1, reason => 'poison') AS nacked;
SELECT severity, finding, figure, action
  FROM queue.health() WHERE queue_name = 'hz';

-- paused: said so, and no ready_age finding while paused; worst first
SELECT queue.pause('hz') AS paused;
SELECT severity, finding FROM queue.health(max_ready_age => '0') WHERE queue_name = 'hz';
SELECT queue.resume('hz') AS resumed;

-- a role that may not consume from hz is told nothing about it
CREATE ROLE health_stranger;
SET ROLE health_stranger;
SELECT count(*) AS seen_by_stranger FROM queue.health(max_ready_age => '0') WHERE queue_name = 'hz';
RESET ROLE;
DROP ROLE health_stranger;

-- errors
SELECT * FROM queue.health(NULL);
SELECT * FROM queue.health(max_xact_age => NULL);

SELECT queue.drop('hz');
