CREATE FUNCTION queue._redrive_impl(queue_name text, quantity integer,
									ids bigint[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
	lowest bigint;
	r queue.registry;
BEGIN
	r := queue._lock_queue(queue_name);
	IF quantity OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'quantity must be at least 1, not %', quantity
			USING ERRCODE = 'invalid_parameter_value';
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
		'SELECT id, body, headers, 0,'
		'       CASE WHEN $3::pg_catalog.interval IS NULL THEN enqueued_at ELSE now() END,'
		'       now(), group_key, idempotency_key, priority FROM moved'
		'  RETURNING id) '
		'SELECT count(*), min(id) FROM back',
		'dl_' || queue_name, 'q_' || queue_name)
		INTO n, lowest USING quantity, ids, r.message_ttl;
	/* with a message_ttl, a redriven message starts a new life (enqueued now) */
	IF r.message_ttl IS NOT NULL AND n OPERATOR(pg_catalog.>) 0 THEN
		PERFORM queue._note_expiry(format('queue.%I', 'q_' || queue_name)::regclass::oid,
								   now() OPERATOR(pg_catalog.+) r.message_ttl);
	END IF;
	PERFORM queue._count_visible(format('queue.%I', 'q_' || queue_name)::regclass::oid, n);
	/* the messages keep their ids, which reads may have passed long ago */
	IF lowest IS NOT NULL THEN
		PERFORM queue._rewind(format('queue.%I', 'q_' || queue_name)::regclass::oid,
							  lowest, true);
	END IF;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._redrive_impl(text, integer, bigint[]) IS
'Internal: the work of queue.redrive, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._redrive_impl(text, integer, bigint[]) FROM PUBLIC;
