/*
 * Dead letters of a queue with a dead_letter_queue: each message (of ids)
 * is deleted and sent to that queue as a new message, with its headers and
 * a "dead_letter" header saying where it came from, why, and after how
 * many deliveries; its group and priority go along.  Returns how many
 * went.  Run as the owner, by nack (src/ack.c) and the worker.
 */
CREATE FUNCTION queue._forward_dead(queue_name text, dead_letter_queue text,
									ids bigint[], reason text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d record;
	n bigint := 0;
BEGIN
	FOR d IN EXECUTE format(
		'DELETE FROM queue.%I WHERE id OPERATOR(pg_catalog.=) ANY ($1) '
		'RETURNING id, body, headers, delivery_count, enqueued_at, group_key, '
		'          idempotency_key, priority', 'q_' || queue_name) USING ids
	LOOP
		BEGIN
			PERFORM queue.send(dead_letter_queue, d.body,
				coalesce(d.headers, '{}'::jsonb)
				OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('dead_letter',
					pg_catalog.jsonb_build_object('queue', queue_name, 'id', d.id,
						'reason', reason, 'delivery_count', d.delivery_count,
						'enqueued_at', d.enqueued_at, 'dead_at', pg_catalog.clock_timestamp(),
						'idempotency_key', d.idempotency_key)),
				group_key => d.group_key, priority => d.priority);
		EXCEPTION WHEN invalid_parameter_value THEN
			/* refused for what it is (too big with the header): the queue's
			 * own dead letters keep it, saying why.  Anything else (a lock
			 * timeout of the worker's step) rolls the whole move back, to be
			 * tried again. */
			EXECUTE format(
				'INSERT INTO queue.%I (id, body, headers, delivery_count, enqueued_at, '
				'  reason, group_key, idempotency_key, priority) '
				'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', 'dl_' || queue_name)
				USING d.id, d.body, d.headers, d.delivery_count, d.enqueued_at,
					  format('%s (dead-letter queue "%s" refused it: %s)',
							 reason, dead_letter_queue, SQLERRM),
					  d.group_key, d.idempotency_key, d.priority;
		END;
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._forward_dead(text, text, bigint[], text) IS
'Internal: moves messages of a queue to its dead-letter queue as new messages with a dead_letter header; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._forward_dead(text, text, bigint[], text) FROM PUBLIC;
