/*
 * One worker step, in the worker's transaction (or a test's): each part
 * handles at most batch rows per queue, and a queue dropped or altered
 * under it is skipped until the next step.  The parts are functions of
 * their own (queue._step_*), called here in this order:
 *
 * 1. _step_failures: deliveries whose reading transaction rolled back are
 *    counted.
 * Then, for each queue that needs something (src/schedule.c, bits DUE_*):
 * 2. _step_dead_letters (DUE_SWEEP): messages that had their last
 *    delivery and are visible again move to the dead letters.  A queue's
 *    table is scanned for them only when a last-chance delivery has come
 *    due (queue._due_queues) or part 1 made a message reach
 *    max_deliveries.
 * 3. _step_archive (DUE_HOUSEKEEPING): archived messages past the
 *    retention are deleted.
 * 4. _step_forget (DUE_HOUSEKEEPING): idempotency keys and producers'
 *    sequence numbers past dedup_window are forgotten.
 * 5. _step_expire (DUE_EXPIRY): messages past their ttl expire.
 * 6. _step_measure (DUE_MEASURE): the counts of queue.stats.
 * 7. _step_compact (DUE_COMPACTION): a table mostly free space is
 *    rewritten.
 * 8. _step_wake (DUE_SLEEPERS): readers sleeping in queue.read(wait =>
 *    ...) on a queue where messages have become visible (a delay or a
 *    visibility timeout ran out) are woken.
 */
CREATE FUNCTION queue._worker_step(batch integer,
	OUT dead_lettered bigint, OUT purged bigint, OUT forgotten bigint,
	OUT failures_counted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	last_chance oid[];
	dq record;
	q queue.registry;
	e record;
BEGIN
	dead_lettered := 0;
	purged := 0;
	forgotten := 0;
	SELECT * INTO failures_counted, last_chance FROM queue._step_failures(batch);

	FOR dq IN
		SELECT * FROM queue._due_queues(last_chance, queue._full_pass_due()) AS due_queue
		 ORDER BY due_queue.queue_name
	LOOP
		BEGIN
			/*
			 * The options as they are now, with a new snapshot: the queue
			 * may have been dropped, or dropped and made again with other
			 * options and tables, since the step began.
			 */
			SELECT * INTO q FROM queue.registry r
			 WHERE r.queue_name OPERATOR(pg_catalog.=) dq.queue_name;
			CONTINUE WHEN NOT FOUND
				OR pg_catalog.to_regclass(format('queue.%I', 'q_' || dq.queue_name))::oid
				   IS DISTINCT FROM dq.relid;
			IF (dq.due OPERATOR(pg_catalog.&) 1) OPERATOR(pg_catalog.<>) 0 THEN
				dead_lettered := dead_lettered + queue._step_dead_letters(q, dq.relid, batch);
			END IF;
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0 THEN
				purged := purged + queue._step_archive(q, batch);
				forgotten := forgotten + queue._step_forget(q, batch);
			END IF;
			IF (dq.due OPERATOR(pg_catalog.&) 32) OPERATOR(pg_catalog.<>) 0 THEN
				SELECT * INTO e FROM queue._step_expire(q, dq.relid, batch);
				dead_lettered := dead_lettered + e.dead_lettered;
				purged := purged + e.purged;
			END IF;
			IF (dq.due OPERATOR(pg_catalog.&) 16) OPERATOR(pg_catalog.<>) 0 THEN
				PERFORM queue._step_measure(q, dq.relid);
			END IF;
			IF (dq.due OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN
				PERFORM queue._step_compact(q);
			END IF;
			IF (dq.due OPERATOR(pg_catalog.&) 4) OPERATOR(pg_catalog.<>) 0 THEN
				PERFORM queue._step_wake(q, dq.relid);
			END IF;
		EXCEPTION
			WHEN undefined_table OR lock_not_available THEN
				NULL;
			WHEN OTHERS THEN
				/* one queue's trouble must not stop the others' housekeeping */
				RAISE WARNING 'worker step on queue "%" failed: %', dq.queue_name, SQLERRM
					USING ERRCODE = SQLSTATE;
		END;
	END LOOP;
END
$$;

COMMENT ON FUNCTION queue._worker_step(integer) IS
'Internal: one step of the background worker (failed deliveries, dead letters, retention, keys and producers forgotten, expiry, counts, compaction, wakeups), at most batch rows per queue and part.';

REVOKE EXECUTE ON FUNCTION queue._worker_step(integer) FROM PUBLIC;
