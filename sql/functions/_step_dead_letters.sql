/*
 * Worker step, part 2: messages of queue q (message table q_relid)
 * delivered max_deliveries times that are visible again (their last
 * delivery timed out, or its transaction rolled back) move to the dead
 * letters, at most batch of them.  Rows a consumer holds are skipped (SKIP
 * LOCKED): a consumer acking and the worker dead-lettering the same
 * message cannot both win.  Schedules the next sweep (src/schedule.c) and
 * returns how many messages moved.
 */
CREATE FUNCTION queue._step_dead_letters(q queue.registry, q_relid oid, batch integer)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ids bigint[];
	n bigint;
	next_due timestamptz;
BEGIN
	IF q.max_deliveries OPERATOR(pg_catalog.<=) 0 THEN
		RETURN 0;
	END IF;
	EXECUTE format(
		'SELECT array_agg(id ORDER BY id) FROM ('
		'  SELECT id FROM queue.%I'
		'   WHERE delivery_count >= $1 AND visible_at <= clock_timestamp()'
		'   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) s',
		'q_' || q.queue_name)
		INTO ids USING q.max_deliveries, batch;
	n := queue._dead_letter(q.queue_name, q.dead_letter_queue, ids,
		format('delivered %s times without an ack', q.max_deliveries));
	IF n OPERATOR(pg_catalog.>) 0 THEN
		PERFORM queue._count_dead(q_relid, n);
		/* groups limited: the next messages of their groups are free */
		IF q.max_in_flight_per_group IS NOT NULL THEN
			PERFORM queue._rewind(q_relid, ids[1], false);
		END IF;
	END IF;
	/*
	 * What is left: last-chance deliveries still in flight come due when
	 * their timeouts run out; rows skipped (locked, or past the batch) are
	 * due at once.
	 */
	EXECUTE format('SELECT min(visible_at) FROM queue.%I WHERE delivery_count >= $1',
				   'q_' || q.queue_name)
		INTO next_due USING q.max_deliveries;
	IF n OPERATOR(pg_catalog.>=) batch THEN
		next_due := '-infinity'::pg_catalog.timestamptz;
	END IF;
	IF next_due IS NOT NULL THEN
		PERFORM queue._sweep_at(q_relid, next_due);
	END IF;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._step_dead_letters(queue.registry, oid, integer) IS
'Internal: worker step part 2, move the messages of a queue that had their last delivery to the dead letters; returns how many.';

REVOKE EXECUTE ON FUNCTION queue._step_dead_letters(queue.registry, oid, integer) FROM PUBLIC;
