/*
 * queue 0.3.0 -> 0.4.0
 *
 * Deliveries that survive a crash (src/journal.c): a read journals what it
 * handed out, and after a crash the deliveries of interrupted transactions
 * come back as "the count should be at least N".  queue._failed_deliveries
 * returns that as a new column at_least, queue._requeue_failure takes it
 * back, and the worker step raises delivery_count with it.
 *
 * The install script of 0.4.0 is sql/queue.sql, and test/t/009_upgrade.pl
 * checks that an updated database has the same objects as a fresh one.
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.4.0'" to load this file. \quit

-- a column more in the result: drop and create
DROP FUNCTION queue._failed_deliveries(integer);
DROP FUNCTION queue._requeue_failure(oid, bigint, integer);

/*
 * at_least: for deliveries a crash interrupted, the delivery_count the read
 * wrote (src/journal.c); the worker raises the count to
 * greatest(count + failures, at_least + failures).
 */
CREATE FUNCTION queue._failed_deliveries(max integer)
RETURNS TABLE (relid oid, id bigint, failures integer, at_least integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_failed_deliveries_sql';

CREATE FUNCTION queue._requeue_failure(relid oid, id bigint, failures integer,
									   at_least integer DEFAULT 0)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_requeue_failure_sql';

CREATE OR REPLACE FUNCTION queue._worker_step(batch integer,
	OUT dead_lettered bigint, OUT purged bigint, OUT forgotten bigint,
	OUT failures_counted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	dq record;
	n bigint;
	relid oid;
	due boolean;
	counted oid[] := '{}';
	new_count integer;
	added integer;
	lowest bigint;
	next_due timestamptz;
BEGIN
	dead_lettered := 0;
	purged := 0;
	forgotten := 0;
	failures_counted := 0;

	FOR r IN
		SELECT f.relid, f.id, f.failures, f.at_least, q.queue_name, q.max_deliveries
		  FROM queue._failed_deliveries(batch) f
		  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) f.relid
		  JOIN queue.registry q
		    ON c.relname OPERATOR(pg_catalog.=) ('q_' OPERATOR(pg_catalog.||) q.queue_name)::pg_catalog.name
		   AND c.relnamespace OPERATOR(pg_catalog.=) 'queue'::pg_catalog.regnamespace
	LOOP
		BEGIN
			/*
			 * Not while the message is handed out to another consumer (its
			 * receipt must stay valid) or locked by one (no waiting): then
			 * the failure is counted in a later step.
			 */
			EXECUTE format(
				'UPDATE queue.%1$I m'
				'   SET delivery_count = GREATEST(m.delivery_count + $2, $3 + $2) '
				'  FROM (SELECT id, delivery_count FROM queue.%1$I WHERE id = $1'
				'          AND NOT (leased AND visible_at > clock_timestamp())'
				'        FOR UPDATE SKIP LOCKED) old'
				' WHERE m.id = old.id '
				'RETURNING m.delivery_count, m.delivery_count - old.delivery_count',
				'q_' || r.queue_name)
				INTO new_count, added USING r.id, r.failures, r.at_least;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n OPERATOR(pg_catalog.>) 0 THEN
				failures_counted := failures_counted + added;
			END IF;
			/* it has now had its last delivery: sweep its queue */
			IF n OPERATOR(pg_catalog.>) 0 AND r.max_deliveries OPERATOR(pg_catalog.>) 0
			   AND new_count OPERATOR(pg_catalog.>=) r.max_deliveries THEN
				counted := counted OPERATOR(pg_catalog.||) r.relid;
			END IF;
			IF n OPERATOR(pg_catalog.=) 0 THEN
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I WHERE id = $1)',
							   'q_' || r.queue_name)
					INTO due USING r.id;
				IF due THEN
					PERFORM queue._requeue_failure(r.relid, r.id, r.failures, r.at_least);
				END IF;
			END IF;
		EXCEPTION WHEN undefined_table THEN
			NULL;
		END;
	END LOOP;

	/*
	 * The queues that need something (src/schedule.c): all of them once a
	 * minute and outside the background worker, otherwise those whose
	 * sweep is due, whose housekeeping tables may hold rows, or on which
	 * readers sleep.
	 */
	FOR dq IN
		SELECT * FROM queue._due_queues(counted, queue._full_pass_due()) AS due_queue
		 ORDER BY due_queue.queue_name
	LOOP
		BEGIN
			/*
			 * The options as they are now, with a new snapshot: the queue
			 * may have been dropped, or dropped and made again with other
			 * options and tables, since the step began.
			 */
			SELECT * INTO r FROM queue.registry q
			 WHERE q.queue_name OPERATOR(pg_catalog.=) dq.queue_name;
			CONTINUE WHEN NOT FOUND
				OR pg_catalog.to_regclass(format('queue.%I', 'q_' || dq.queue_name))::oid
				   IS DISTINCT FROM dq.relid;
			relid := dq.relid;
			IF r.max_deliveries OPERATOR(pg_catalog.>) 0
			   AND (dq.due OPERATOR(pg_catalog.&) 1) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format(
					'WITH dead AS ('
					'  DELETE FROM queue.%1$I m WHERE m.id IN ('
					'    SELECT id FROM queue.%1$I'
					'     WHERE delivery_count >= $1 AND visible_at <= clock_timestamp()'
					'     ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)'
					'  RETURNING m.id, m.body, m.headers, m.delivery_count, m.enqueued_at,'
					'            m.group_key, m.idempotency_key, m.priority) '
					', gone AS ('
					'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
					'                        reason, group_key, idempotency_key, priority) '
					'SELECT id, body, headers, delivery_count, enqueued_at, $3, group_key,'
					'       idempotency_key, priority FROM dead'
					'  RETURNING id) '
					'SELECT count(*), min(id) FROM gone',
					'q_' || r.queue_name, 'dl_' || r.queue_name)
					INTO n, lowest
					USING r.max_deliveries, batch,
						  format('delivered %s times without an ack', r.max_deliveries);
				IF n OPERATOR(pg_catalog.>) 0 THEN
					dead_lettered := dead_lettered + n;
					PERFORM queue._count_dead(relid, n);
					/* ordered: the next messages of their groups are free */
					IF r.ordered THEN
						PERFORM queue._rewind(relid, lowest, false);
					END IF;
				END IF;
				/*
				 * What is left: last-chance deliveries still in flight come
				 * due when their timeouts run out; rows skipped (locked, or
				 * past the batch) are due at once.
				 */
				EXECUTE format('SELECT min(visible_at) FROM queue.%I WHERE delivery_count >= $1',
							   'q_' || r.queue_name)
					INTO next_due USING r.max_deliveries;
				IF n OPERATOR(pg_catalog.>=) batch THEN
					next_due := '-infinity'::pg_catalog.timestamptz;
				END IF;
				IF next_due IS NOT NULL THEN
					PERFORM queue._sweep_at(relid, next_due);
				END IF;
			END IF;

			/*
			 * The tables below are empty for most queues: a table of no
			 * pages (never written, or truncated by vacuum) is skipped
			 * without planning a statement for it.
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0
			   AND pg_catalog.pg_relation_size(format('queue.%I', 'a_' || r.queue_name))
			   OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'DELETE FROM queue.%1$I a WHERE a.id IN ('
					'  SELECT id FROM queue.%1$I'
					'   WHERE $1::interval IS NULL OR acked_at < clock_timestamp() - $1'
					'   ORDER BY acked_at LIMIT $2)',
					'a_' || r.queue_name)
					USING r.retention, batch;
				GET DIAGNOSTICS n = ROW_COUNT;
				purged := purged + n;
			END IF;

			/*
			 * Idempotency keys past the window; the age is checked again on
			 * the row deleted, which a send may have claimed again meanwhile.
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0
			   AND pg_catalog.pg_relation_size(format('queue.%I', 'k_' || r.queue_name))
			   OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'DELETE FROM queue.%1$I k WHERE k.key IN ('
					'  SELECT key FROM queue.%1$I'
					'   WHERE created_at < clock_timestamp() - $1'
					'   ORDER BY created_at LIMIT $2)'
					'  AND k.created_at < clock_timestamp() - $1',
					'k_' || r.queue_name)
					USING r.dedup_window, batch;
				GET DIAGNOSTICS n = ROW_COUNT;
				forgotten := forgotten + n;
			END IF;

			/* sequence numbers of producers silent for the window */
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0
			   AND pg_catalog.pg_relation_size(format('queue.%I', 'p_' || r.queue_name))
			   OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'DELETE FROM queue.%1$I p WHERE (p.producer, p.seq) IN ('
					'  SELECT producer, seq FROM queue.%1$I'
					'   WHERE producer IN (SELECT producer FROM queue.%1$I'
					'                       GROUP BY producer'
					'                      HAVING max(seen_at) < clock_timestamp() - $1)'
					'   LIMIT $2)',
					'p_' || r.queue_name)
					USING r.dedup_window, batch;
				GET DIAGNOSTICS n = ROW_COUNT;
				forgotten := forgotten + n;
			END IF;

			/*
			 * A table left mostly free space by a held snapshot or a
			 * backlog, now drained and vacuumed: rewrite it, which gives
			 * the space back (its lock is waited for lock_timeout at most).
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format('CLUSTER queue.%I USING %I', 'q_' || r.queue_name,
							   'qpk_' || r.queue_name);
				RAISE LOG 'queue: compacted the message table of queue "%"', r.queue_name;
			END IF;

			/* readers asleep while a delay or visibility timeout ran out */
			IF (dq.due OPERATOR(pg_catalog.&) 4) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I'
							   ' WHERE visible_at <= clock_timestamp())',
							   'q_' || r.queue_name)
					INTO due;
				IF due THEN
					PERFORM queue._wake(relid);
				END IF;
			END IF;
		EXCEPTION
			WHEN undefined_table OR lock_not_available THEN
				NULL;
			WHEN OTHERS THEN
				/* one queue's trouble must not stop the others' housekeeping */
				RAISE WARNING 'queue: worker step on queue "%" failed: %', r.queue_name, SQLERRM
					USING ERRCODE = SQLSTATE;
		END;
	END LOOP;
END
$$;

REVOKE ALL ON FUNCTION
	queue._failed_deliveries(integer),
	queue._requeue_failure(oid, bigint, integer, integer)
FROM PUBLIC;
