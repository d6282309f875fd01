/*
 * Worker step, part 5: messages of queue q (message table q_relid) past
 * the message_ttl or their own expiry, not in flight (a consumer may
 * still ack those), oldest first, at most batch of them: to the dead
 * letters with reason 'expired' (or the dead-letter queue), or dropped
 * (drop_expired).  Schedules the next look (src/schedule.c).
 */
CREATE FUNCTION queue._step_expire(q queue.registry, q_relid oid, batch integer,
	OUT dead_lettered bigint, OUT purged bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ids bigint[];
	hdr bigint;
	n bigint;
	own_due timestamptz;
	next_due timestamptz;
BEGIN
	dead_lettered := 0;
	purged := 0;
	hdr := queue._expiry_headers(q_relid);
	IF q.message_ttl IS NULL AND hdr OPERATOR(pg_catalog.=) 0 THEN
		PERFORM queue._expire_at(q_relid, NULL);
		RETURN;
	END IF;
	EXECUTE format(
		'SELECT array_agg(id ORDER BY id) FROM ('
		'  SELECT id FROM queue.%I'
		'   WHERE (enqueued_at <= clock_timestamp() - $1'
		'          OR ($3 AND (headers ->> %L)::timestamptz <= clock_timestamp()))'
		'     AND NOT (leased AND visible_at > clock_timestamp())'
		'   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) s',
		'q_' || q.queue_name, 'queue_expires_at')
		INTO ids USING q.message_ttl, batch, hdr OPERATOR(pg_catalog.<>) 0;
	n := 0;
	IF ids IS NOT NULL AND q.drop_expired THEN
		EXECUTE format('DELETE FROM queue.%I WHERE id = ANY ($1)',
					   'q_' || q.queue_name) USING ids;
		GET DIAGNOSTICS n = ROW_COUNT;
		purged := n;
	ELSE
		n := queue._dead_letter(q.queue_name, q.dead_letter_queue, ids, 'expired');
	END IF;
	IF n OPERATOR(pg_catalog.>) 0 AND NOT q.drop_expired THEN
		dead_lettered := n;
		PERFORM queue._count_dead(q_relid, n);
	END IF;
	IF n OPERATOR(pg_catalog.>) 0 AND q.max_in_flight_per_group IS NOT NULL THEN
		PERFORM queue._rewind(q_relid, ids[1], false);
	END IF;
	/*
	 * Next: when the oldest message left expires (ids come in about
	 * enqueued_at order), or the first own expiry (a scan, which also tells
	 * when no message has one any more); a full batch is looked at again at
	 * once, expired messages still in flight in a second.  NULL (nothing
	 * left to expire): not before the next send.
	 */
	IF pg_catalog.cardinality(ids) OPERATOR(pg_catalog.>=) batch THEN
		next_due := '-infinity'::pg_catalog.timestamptz;
	ELSE
		next_due := NULL;
		IF q.message_ttl IS NOT NULL THEN
			EXECUTE format('SELECT min(enqueued_at) FROM ('
						   '  SELECT enqueued_at FROM queue.%I ORDER BY id LIMIT 100) s',
						   'q_' || q.queue_name)
				INTO next_due;
			next_due := next_due OPERATOR(pg_catalog.+) q.message_ttl;
		END IF;
		IF hdr OPERATOR(pg_catalog.<>) 0 THEN
			EXECUTE format('SELECT min((headers ->> %L)::timestamptz), count(*) '
						   '  FROM queue.%I WHERE headers ? %L',
						   'queue_expires_at', 'q_' || q.queue_name,
						   'queue_expires_at')
				INTO own_due, n;
			IF n OPERATOR(pg_catalog.=) 0 THEN
				PERFORM queue._expiry_headers_clear(q_relid, hdr);
			END IF;
			next_due := LEAST(next_due, own_due);
		END IF;
		/* past: expired but in flight, look again in a second */
		IF next_due OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() THEN
			next_due := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) interval '1 second';
		END IF;
	END IF;
	PERFORM queue._expire_at(q_relid, next_due);
END
$$;

COMMENT ON FUNCTION queue._step_expire(queue.registry, oid, integer) IS
'Internal: worker step part 5, move the expired messages of a queue to the dead letters (or drop them); returns how many of each.';

REVOKE EXECUTE ON FUNCTION queue._step_expire(queue.registry, oid, integer) FROM PUBLIC;
