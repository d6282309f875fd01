/*
 * Worker step, part 1 (queue._worker_step): deliveries whose reading
 * transaction rolled back (src/deliveries.c), at most batch of them, are
 * counted on their messages.  Returns how many were counted, and the
 * queues in which a message has now had its last delivery: their tables
 * are swept for dead letters in the same step.
 */
CREATE FUNCTION queue._step_failures(batch integer,
	OUT failures_counted bigint, OUT last_chance oid[])
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	n bigint;
	found_it boolean;
	new_count integer;
	added integer;
BEGIN
	failures_counted := 0;
	last_chance := '{}';
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
				/* it has now had its last delivery: sweep its queue */
				IF r.max_deliveries OPERATOR(pg_catalog.>) 0
				   AND new_count OPERATOR(pg_catalog.>=) r.max_deliveries THEN
					last_chance := last_chance OPERATOR(pg_catalog.||) r.relid;
				END IF;
			ELSE
				/* still there (busy, not acked): counted in a later step */
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I WHERE id = $1)',
							   'q_' || r.queue_name)
					INTO found_it USING r.id;
				IF found_it THEN
					PERFORM queue._requeue_failure(r.relid, r.id, r.failures, r.at_least);
				END IF;
			END IF;
		EXCEPTION WHEN undefined_table THEN
			NULL;
		END;
	END LOOP;
END
$$;

COMMENT ON FUNCTION queue._step_failures(integer) IS
'Internal: worker step part 1, count the deliveries whose transaction rolled back on their messages; returns how many and the queues to sweep for dead letters.';

REVOKE EXECUTE ON FUNCTION queue._step_failures(integer) FROM PUBLIC;
