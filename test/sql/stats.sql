--
-- stats: queue.stats(q, exact => true) counts; queue.stats(q) returns the
-- worker's last measurement, or counts while there is none; queue.metrics
-- is stats() one row per metric.  What the worker measures and when is in
-- test/t/018_stats.pl (it depends on the worker's timing).
--
\set VERBOSITY terse

SELECT queue.create('st', visibility_timeout => '1 hour');
SELECT count(*) AS sent FROM (
	SELECT queue.send('st', jsonb_build_object('n', n)) FROM generate_series(1, 4) n) s;
SELECT queue.send('st', '{}', delay => '1 hour') > 0 AS delayed_sent;
SELECT count(*) AS taken FROM queue.read('st', 1);

-- exact: counted now, as the caller's snapshot sees them
SELECT queue_name, ready, in_flight, delayed, dead, archived,
       oldest_ready_age >= '0' AS has_age,
       as_of BETWEEN now() AND clock_timestamp() AS as_of_now
  FROM queue.stats('st', exact => true);

-- in a transaction, exact sees the transaction's own changes
BEGIN;
SELECT queue.send('st', '{}') > 0 AS sent_in_xact;
SELECT ready FROM queue.stats('st', exact => true);
ROLLBACK;
SELECT ready FROM queue.stats('st', exact => true);

-- without exact: a measurement (at most as old as the worker's last step
-- and queue.stats_interval), or a count where there is none; the counts are
-- those of some moment between the queue's creation and now
SELECT ready + in_flight + delayed <= 5 AS plausible, as_of <= clock_timestamp() AS as_of_past
  FROM queue.stats('st');
SELECT ready + in_flight + delayed <= 5 AS plausible
  FROM queue.stats() WHERE queue_name = 'st';

-- bad arguments
SELECT * FROM queue.stats('st', exact => NULL);
SELECT * FROM queue.stats('Bad Name', exact => true);
SELECT * FROM queue.stats('missing_q', exact => true);
SELECT * FROM queue.stats('missing_q');

-- queue.metrics: nine rows per queue, counters and gauges
SELECT metric, kind FROM queue.metrics WHERE queue_name = 'st' ORDER BY metric;
SELECT count(*) = 9 * (SELECT count(*) FROM queue.queues) AS nine_per_queue FROM queue.metrics;
SELECT value FROM queue.metrics WHERE queue_name = 'st' AND metric = 'sent_total';

SELECT queue.drop('st');
