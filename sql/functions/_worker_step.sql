/*
 * One worker step, in the worker's transaction (or a test's): each part
 * handles at most batch rows per queue, and a queue dropped or altered
 * under it is skipped until the next step.
 *
 * 1. Deliveries whose reading transaction rolled back are counted.
 * 2. Messages delivered max_deliveries times that are visible again (their
 *    last delivery timed out, or its transaction rolled back) move to the
 *    dead letters.  Rows a consumer holds are skipped (SKIP LOCKED): a
 *    consumer acking and the worker dead-lettering the same message
 *    cannot both win.  A queue's table is scanned for them only when a
 *    last-chance delivery has come due (queue._due_queues) or step 1 made
 *    a message reach max_deliveries.
 * 3. Archived messages past the queue's retention are deleted; with no
 *    retention (turned off), the whole archive goes.
 * 4. Idempotency keys past dedup_window are forgotten, and so are the
 *    sequence numbers of producers silent for that long.
 * 5. Readers sleeping in queue.read(wait => ...) on a queue where messages
 *    have become visible (a delay or a visibility timeout ran out) are
 *    woken.
 */
CREATE FUNCTION queue._worker_step(batch integer,
	OUT dead_lettered bigint, OUT purged bigint, OUT forgotten bigint,
	OUT failures_counted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	dq record;
	m record;
	ids bigint[];
	hdr bigint;
	own_due timestamptz;
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
					'SELECT array_agg(id ORDER BY id) FROM ('
					'  SELECT id FROM queue.%I'
					'   WHERE delivery_count >= $1 AND visible_at <= clock_timestamp()'
					'   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) s',
					'q_' || r.queue_name)
					INTO ids USING r.max_deliveries, batch;
				n := queue._dead_letter(r.queue_name, r.dead_letter_queue, ids,
					format('delivered %s times without an ack', r.max_deliveries));
				lowest := ids[1];
				IF n OPERATOR(pg_catalog.>) 0 THEN
					dead_lettered := dead_lettered + n;
					PERFORM queue._count_dead(relid, n);
					/* groups limited: the next messages of their groups are free */
					IF r.max_in_flight_per_group IS NOT NULL THEN
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
			 * Messages past the message_ttl, not in flight (a consumer may
			 * still ack those), oldest first: to the dead letters with
			 * reason 'expired' (or the dead-letter queue), or dropped.
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 32) OPERATOR(pg_catalog.<>) 0 THEN
				hdr := queue._expiry_headers(relid);
				IF r.message_ttl IS NULL AND hdr OPERATOR(pg_catalog.=) 0 THEN
					PERFORM queue._expire_at(relid, NULL);
				ELSE
					EXECUTE format(
						'SELECT array_agg(id ORDER BY id) FROM ('
						'  SELECT id FROM queue.%I'
						'   WHERE (enqueued_at <= clock_timestamp() - $1'
						'          OR ($3 AND (headers ->> %L)::timestamptz <= clock_timestamp()))'
						'     AND NOT (leased AND visible_at > clock_timestamp())'
						'   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) s',
						'q_' || r.queue_name, 'queue_expires_at')
						INTO ids USING r.message_ttl, batch, hdr OPERATOR(pg_catalog.<>) 0;
					n := 0;
					IF ids IS NOT NULL AND r.drop_expired THEN
						EXECUTE format('DELETE FROM queue.%I WHERE id = ANY ($1)',
									   'q_' || r.queue_name) USING ids;
						GET DIAGNOSTICS n = ROW_COUNT;
						purged := purged + n;
					ELSE
						n := queue._dead_letter(r.queue_name, r.dead_letter_queue, ids,
												'expired');
					END IF;
					IF n OPERATOR(pg_catalog.>) 0 AND NOT r.drop_expired THEN
						dead_lettered := dead_lettered + n;
						PERFORM queue._count_dead(relid, n);
					END IF;
					IF n OPERATOR(pg_catalog.>) 0 AND r.max_in_flight_per_group IS NOT NULL THEN
						PERFORM queue._rewind(relid, ids[1], false);
					END IF;
					/*
					 * Next: when the oldest message left expires (ids come in
					 * about enqueued_at order), or the first own expiry (a
					 * scan, which also tells when no message has one any
					 * more); a full batch is looked at again at once,
					 * expired messages still in flight in a second.  NULL
					 * (nothing left to expire): not before the next send.
					 */
					IF pg_catalog.cardinality(ids) OPERATOR(pg_catalog.>=) batch THEN
						next_due := '-infinity'::pg_catalog.timestamptz;
					ELSE
						next_due := NULL;
						IF r.message_ttl IS NOT NULL THEN
							EXECUTE format('SELECT min(enqueued_at) FROM ('
										   '  SELECT enqueued_at FROM queue.%I ORDER BY id LIMIT 100) s',
										   'q_' || r.queue_name)
								INTO next_due;
							next_due := next_due OPERATOR(pg_catalog.+) r.message_ttl;
						END IF;
						IF hdr OPERATOR(pg_catalog.<>) 0 THEN
							EXECUTE format('SELECT min((headers ->> %L)::timestamptz), count(*) '
										   '  FROM queue.%I WHERE headers ? %L',
										   'queue_expires_at', 'q_' || r.queue_name,
										   'queue_expires_at')
								INTO own_due, n;
							IF n OPERATOR(pg_catalog.=) 0 THEN
								PERFORM queue._expiry_headers_clear(relid, hdr);
							END IF;
							next_due := LEAST(next_due, own_due);
						END IF;
						/* past: expired but in flight, look again in a second */
						IF next_due OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() THEN
							next_due := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) interval '1 second';
						END IF;
					END IF;
					PERFORM queue._expire_at(relid, next_due);
				END IF;
			END IF;

			/* the counts of queue.stats and queue.metrics (src/measure.c) */
			IF (dq.due OPERATOR(pg_catalog.&) 16) OPERATOR(pg_catalog.<>) 0 THEN
				SELECT * INTO m FROM queue._count(r.queue_name);
				PERFORM queue._set_measured(relid, m.ready, m.in_flight, m.delayed,
											m.dead, m.archived, m.oldest_ready,
											m.next_change, m.as_of);
			END IF;

			/*
			 * A table left mostly free space by a held snapshot or a
			 * backlog, now drained and vacuumed: rewrite it, which gives
			 * the space back (its lock is waited for lock_timeout at most).
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format('CLUSTER queue.%I USING %I', 'q_' || r.queue_name,
							   'qpk_' || r.queue_name);
				RAISE LOG 'compacted the message table of queue "%"', r.queue_name;
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
				RAISE WARNING 'worker step on queue "%" failed: %', r.queue_name, SQLERRM
					USING ERRCODE = SQLSTATE;
		END;
	END LOOP;
END
$$;

COMMENT ON FUNCTION queue._worker_step(integer) IS
'Internal: one step of the background worker (failed deliveries, dead letters, retention, keys and producers forgotten, compaction, wakeups), at most batch rows per queue and part.';

REVOKE EXECUTE ON FUNCTION queue._worker_step(integer) FROM PUBLIC;
