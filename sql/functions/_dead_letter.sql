/*
 * Dead letters of a queue, by id (the caller locked them): to its
 * dead-letter queue (queue._forward_dead), or to its own dl_ with the
 * reason.  Returns how many went.  Run as the owner by the worker.
 */
CREATE FUNCTION queue._dead_letter(queue_name text, dead_letter_queue text,
								   ids bigint[], reason text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF ids IS NULL THEN
		RETURN 0;
	END IF;
	IF dead_letter_queue IS NOT NULL THEN
		RETURN queue._forward_dead(queue_name, dead_letter_queue, ids, reason);
	END IF;
	EXECUTE format(
		'WITH dead AS ('
		'  DELETE FROM queue.%1$I m WHERE m.id OPERATOR(pg_catalog.=) ANY ($1)'
		'  RETURNING m.id, m.body, m.headers, m.delivery_count, m.enqueued_at,'
		'            m.group_key, m.idempotency_key, m.priority) '
		'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
		'                        reason, group_key, idempotency_key, priority) '
		'SELECT id, body, headers, delivery_count, enqueued_at, $2, group_key,'
		'       idempotency_key, priority FROM dead',
		'q_' || queue_name, 'dl_' || queue_name)
		USING ids, reason;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._dead_letter(text, text, bigint[], text) IS
'Internal: moves messages of a queue to its dead letters (or its dead-letter queue) with a reason; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._dead_letter(text, text, bigint[], text) FROM PUBLIC;
