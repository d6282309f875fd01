/*
 * queue 0.2.0 -> 0.3.0
 *
 * Storage that stays fast: reads start at a per-queue position in shared
 * memory (src/position.c, DESIGN.md) instead of the start of the primary
 * key.  The tables do not change.  In SQL: queue._rewind tells the
 * positions to look again (called by alter, redrive and the worker's
 * dead-lettering on ordered queues); the worker step visits only the
 * queues that need something (queue._due_queues, queue._full_pass_due,
 * src/schedule.c), takes due sweeps there instead of through
 * queue._sweep_take, and compacts tables left mostly free space.
 *
 * Written once for the release and never edited: the install script of
 * 0.3.0 is sql/queue.sql, and test/t/009_upgrade.pl checks that an updated
 * database has the same objects as a fresh one.
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.3.0'" to load this file. \quit

CREATE OR REPLACE FUNCTION queue._full_pass_due()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_full_pass_due_sql';

CREATE OR REPLACE FUNCTION queue._due_queues(counted oid[], every boolean)
RETURNS TABLE (relid oid, queue_name text, due integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_due_queues_sql';

CREATE OR REPLACE FUNCTION queue._rewind(relid oid, id bigint, with_head boolean)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_rewind_sql';

CREATE OR REPLACE FUNCTION queue._alter_impl(
	queue_name			text,
	visibility_timeout	interval,
	max_deliveries		integer,
	retry_delay			interval,
	retry_delay_max		interval,
	dedup_window		interval,
	retention			interval,
	ordered				boolean,
	unlogged			boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	old queue.registry;
	new queue.registry;
	tab text;
BEGIN
	old := queue._lock_queue(queue_name);
	new := old;
	new.visibility_timeout := coalesce(visibility_timeout, old.visibility_timeout);
	new.max_deliveries := coalesce(max_deliveries, old.max_deliveries);
	new.retry_delay := coalesce(retry_delay, old.retry_delay);
	new.retry_delay_max := coalesce(retry_delay_max, old.retry_delay_max);
	new.dedup_window := coalesce(dedup_window, old.dedup_window);
	new.retention := coalesce(retention, old.retention);
	new.ordered := coalesce(ordered, old.ordered);
	new.unlogged := coalesce(unlogged, old.unlogged);
	PERFORM queue._check_options(new.visibility_timeout, new.max_deliveries,
								 new.retry_delay, new.retry_delay_max,
								 new.dedup_window, new.retention);
	/* a zero retention turns archiving off again */
	IF new.retention OPERATOR(pg_catalog.=) interval '0' THEN
		new.retention := NULL;
	END IF;

	/*
	 * Lock what changes, the message table first, as every function using
	 * a queue does (src/plan_cache.c, queue_lookup_for): no deadlock with
	 * senders that go on to the key and producer tables.
	 */
	IF new.unlogged IS DISTINCT FROM old.unlogged THEN
		EXECUTE format('LOCK TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I '
					   'IN ACCESS EXCLUSIVE MODE',
					   'q_' || queue_name, 'p_' || queue_name, 'k_' || queue_name,
					   'dl_' || queue_name, 'a_' || queue_name);
	ELSIF new.ordered IS DISTINCT FROM old.ordered THEN
		/* no message may arrive between the check below and the change */
		EXECUTE format('LOCK TABLE queue.%I IN SHARE ROW EXCLUSIVE MODE', 'q_' || queue_name);
	END IF;

	IF new.ordered IS DISTINCT FROM old.ordered THEN
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I)', 'q_' || queue_name)
			INTO STRICT tab;
		IF tab::boolean THEN
			RAISE EXCEPTION 'cannot change "ordered" of queue "%" while it holds messages', queue_name
				USING ERRCODE = '55000',
					  HINT = 'Drain or purge the queue first.';
		END IF;
	END IF;

	IF new.unlogged IS DISTINCT FROM old.unlogged THEN
		FOREACH tab IN ARRAY ARRAY['q_', 'dl_', 'a_', 'k_', 'p_'] LOOP
			EXECUTE format('ALTER TABLE queue.%I SET %s', tab || queue_name,
						   CASE WHEN new.unlogged THEN 'UNLOGGED' ELSE 'LOGGED' END);
		END LOOP;
	END IF;

	UPDATE queue.registry r
	   SET visibility_timeout = new.visibility_timeout,
		   max_deliveries = new.max_deliveries,
		   retry_delay = new.retry_delay,
		   retry_delay_max = new.retry_delay_max,
		   dedup_window = new.dedup_window,
		   retention = new.retention,
		   ordered = new.ordered,
		   unlogged = new.unlogged
	 WHERE r.queue_name OPERATOR(pg_catalog.=) _alter_impl.queue_name;

	PERFORM queue._invalidate(queue_name);
	/* other delivery rules: reads look at every live message again */
	PERFORM queue._rewind(format('queue.%I', 'q_' || queue_name)::regclass::oid, 0, false);
	/* a lower max_deliveries may have made poison of messages */
	PERFORM queue._sweep_at(format('queue.%I', 'q_' || queue_name)::regclass::oid,
							'-infinity'::pg_catalog.timestamptz);
END
$$;

CREATE OR REPLACE FUNCTION queue._redrive_impl(queue_name text, quantity integer,
									ids bigint[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
	lowest bigint;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	IF quantity OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'quantity must be at least 1, not %', quantity
			USING ERRCODE = '22023';
	END IF;
	EXECUTE format(
		'WITH moved AS ('
		'  DELETE FROM queue.%1$I d WHERE d.id IN ('
		'    SELECT id FROM queue.%1$I'
		'     WHERE ($2::bigint[] IS NULL OR id = ANY ($2))'
		'     ORDER BY id LIMIT $1 FOR UPDATE)'
		'  RETURNING d.id, d.body, d.headers, d.enqueued_at, d.group_key,'
		'            d.idempotency_key, d.priority) '
		', back AS ('
		'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
		'                        visible_at, group_key, idempotency_key, priority) '
		'SELECT id, body, headers, 0, enqueued_at, now(), group_key,'
		'       idempotency_key, priority FROM moved'
		'  RETURNING id) '
		'SELECT count(*), min(id) FROM back',
		'dl_' || queue_name, 'q_' || queue_name)
		INTO n, lowest USING quantity, ids;
	PERFORM queue._count_visible(format('queue.%I', 'q_' || queue_name)::regclass::oid, n);
	/* the messages keep their ids, which reads may have passed long ago */
	IF lowest IS NOT NULL THEN
		PERFORM queue._rewind(format('queue.%I', 'q_' || queue_name)::regclass::oid,
							  lowest, true);
	END IF;
	RETURN n;
END
$$;

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
	lowest bigint;
	next_due timestamptz;
BEGIN
	dead_lettered := 0;
	purged := 0;
	forgotten := 0;
	failures_counted := 0;

	FOR r IN
		SELECT f.relid, f.id, f.failures, q.queue_name, q.max_deliveries
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
				'UPDATE queue.%1$I SET delivery_count = delivery_count + $2 '
				' WHERE id = (SELECT id FROM queue.%1$I WHERE id = $1'
				'               AND NOT (leased AND visible_at > clock_timestamp())'
				'             FOR UPDATE SKIP LOCKED) '
				'RETURNING delivery_count',
				'q_' || r.queue_name)
				INTO new_count USING r.id, r.failures;
			GET DIAGNOSTICS n = ROW_COUNT;
			failures_counted := failures_counted + n * r.failures;
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
					PERFORM queue._requeue_failure(r.relid, r.id, r.failures);
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

REVOKE EXECUTE ON FUNCTION queue._rewind(oid, bigint, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION queue._full_pass_due() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION queue._due_queues(oid[], boolean) FROM PUBLIC;

/* the worker takes due sweeps in queue._due_queues now */
DROP FUNCTION queue._sweep_take(oid);
