--
-- wait: long polling (queue.read's wait argument), the parts one session
-- can see: an empty wait lasts the whole wait and no longer, a message
-- already visible ends it at once, a delayed message or a visibility
-- timeout that runs out during the wait ends it when it comes due, the cap
-- queue.max_wait, the refusal under REPEATABLE READ and SERIALIZABLE, bad
-- arguments.  Being woken by another session (commit, rollback, cancel,
-- shutdown, many sleepers) is in test/t/005_wait.pl and the
-- queue_wait_* isolation specs.
--
-- Durations are checked as booleans with generous upper bounds (the machine
-- is shared).  The lower bounds allow 10 ms for the granularity of the
-- sleep's timer: the wait is counted in whole milliseconds and may end a
-- fraction of one early.
-- clock_timestamp() in the select list is evaluated after queue.read has
-- returned, so clock_timestamp() - statement_timestamp() is how long the
-- call took.
--
\set VERBOSITY terse

-- run one statement; 'ok' or SQLSTATE: message
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT queue.create('wait_q');

--
-- an empty queue: nothing, after the whole wait
--
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() >= interval '190 milliseconds' AS waited,
       clock_timestamp() - statement_timestamp() < interval '5 seconds' AS not_longer
  FROM queue.read('wait_q', 1, wait => '200 milliseconds');

-- without wait, or with a zero wait, read returns at once
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once
  FROM queue.read('wait_q', 1);
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once
  FROM queue.read('wait_q', 1, wait => NULL);
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once
  FROM queue.read('wait_q', 1, wait => '0 seconds');

--
-- something visible: returned at once, the wait does not wait for the
-- quantity to fill up
--
SELECT queue.send('wait_q', '{"n": 1}') > 0 AS sent;
SELECT body, delivery_count,
       clock_timestamp() - statement_timestamp() < interval '5 seconds' AS at_once
  FROM queue.read('wait_q', 10, wait => '10 seconds');

--
-- a delayed message that comes due during the wait ends it then: not
-- before (the message is invisible until then) and not at the end of the
-- wait
--
SELECT queue.send('wait_q', '{"n": 2}', delay => '300 milliseconds') > 0 AS sent;
SELECT body, delivery_count,
       clock_timestamp() - statement_timestamp() >= interval '250 milliseconds' AS waited,
       clock_timestamp() - statement_timestamp() < interval '1.5 seconds' AS when_due
  FROM queue.read('wait_q', 1, wait => '2 seconds');

-- the same for a visibility timeout that runs out: the message comes back
-- to the waiting reader, delivered a second time
SELECT queue.send('wait_q', '{"n": 3}') > 0 AS sent;
SELECT body, delivery_count
  FROM queue.read('wait_q', 1, visibility_timeout => '300 milliseconds');
SELECT body, delivery_count,
       clock_timestamp() - statement_timestamp() >= interval '250 milliseconds' AS waited,
       clock_timestamp() - statement_timestamp() < interval '1.5 seconds' AS when_due
  FROM queue.read('wait_q', 1, wait => '2 seconds');

-- a message due only after the wait ends neither ends it early nor is
-- returned
SELECT queue.send('wait_q', '{"n": 4}', delay => '1 hour') > 0 AS sent;
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() >= interval '190 milliseconds' AS waited,
       clock_timestamp() - statement_timestamp() < interval '5 seconds' AS not_longer
  FROM queue.read('wait_q', 1, wait => '200 milliseconds');

-- none of those reads left anything behind but the delayed message and the
-- two deliveries still in flight
SELECT ready, in_flight, delayed FROM queue.stats('wait_q', exact => true);
SELECT queue.purge('wait_q') AS purged;

--
-- in a READ COMMITTED transaction block the wait works as in autocommit
--
BEGIN;
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() >= interval '90 milliseconds' AS waited
  FROM queue.read('wait_q', 1, wait => '100 milliseconds');
SELECT queue.send('wait_q', '{"n": 5}') > 0 AS sent;
-- its own uncommitted send is visible to it at once
SELECT body,
       clock_timestamp() - statement_timestamp() < interval '5 seconds' AS at_once
  FROM queue.read('wait_q', 1, wait => '10 seconds');
ROLLBACK;

--
-- queue.max_wait caps every wait; 0 turns waiting off
--
SHOW queue.max_wait;
SET queue.max_wait = '100ms';
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() >= interval '90 milliseconds' AS waited,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS capped
  FROM queue.read('wait_q', 1, wait => '5 seconds');
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS capped
  FROM queue.read('wait_q', 1, wait => '1 day');
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS capped
  FROM queue.read('wait_q', 1, wait => '1 month');
SET queue.max_wait = 0;
SELECT count(*) AS n,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once
  FROM queue.read('wait_q', 1, wait => '5 seconds');
RESET queue.max_wait;

--
-- REPEATABLE READ and SERIALIZABLE keep their snapshot, so a wait there
-- could never see a new message: refused with 0A000, at once
--
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.try($$SELECT queue.read('wait_q', 1, wait => '1 second')$$) AS result,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once;
-- a read without wait is fine there
SELECT count(*) AS n FROM queue.read('wait_q', 1);
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.try($$SELECT queue.read('wait_q', 1, wait => '1 second')$$) AS result,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once;
ROLLBACK;
-- the error as the client sees it
\set VERBOSITY default
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM queue.read('wait_q', 1, wait => '1 second');
ROLLBACK;
\set VERBOSITY terse

--
-- bad arguments fail at once, before any wait
--
SELECT pg_temp.try($$SELECT queue.read('wait_q', 1, wait => '-1 second')$$) AS result,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once;
SELECT pg_temp.try($$SELECT queue.read('wait_q', 1, wait => '-1 millisecond')$$) AS result;
SELECT pg_temp.try($$SELECT queue.read('wait_q', 0, wait => '1 second')$$) AS result;
SELECT pg_temp.try($$SELECT queue.read('wait_q_missing', 1, wait => '1 second')$$) AS result,
       clock_timestamp() - statement_timestamp() < interval '1 second' AS at_once;

SELECT queue.drop('wait_q');
