/*
 * Worker step, part 4: idempotency keys of queue q past its dedup_window
 * are forgotten, and so are the sequence numbers of producers silent for
 * that long, at most batch of each.  Returns how many rows went.  A key's
 * age is checked again on the row deleted, which a send may have claimed
 * again meanwhile.
 */
CREATE FUNCTION queue._step_forget(q queue.registry, batch integer)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT queue._step_delete('k_' OPERATOR(pg_catalog.||) q.queue_name,
		'DELETE FROM queue.%1$I k WHERE k.key IN ('
		'  SELECT key FROM queue.%1$I'
		'   WHERE created_at < clock_timestamp() - $1'
		'   ORDER BY created_at LIMIT $2)'
		'  AND k.created_at < clock_timestamp() - $1',
		q.dedup_window, batch)
		OPERATOR(pg_catalog.+)
		   queue._step_delete('p_' OPERATOR(pg_catalog.||) q.queue_name,
		'DELETE FROM queue.%1$I p WHERE (p.producer, p.seq) IN ('
		'  SELECT producer, seq FROM queue.%1$I'
		'   WHERE producer IN (SELECT producer FROM queue.%1$I'
		'                       GROUP BY producer'
		'                      HAVING max(seen_at) < clock_timestamp() - $1)'
		'   LIMIT $2)',
		q.dedup_window, batch)
$$;

COMMENT ON FUNCTION queue._step_forget(queue.registry, integer) IS
'Internal: worker step part 4, forget the idempotency keys and producer sequence numbers of a queue past its dedup_window; returns how many.';

REVOKE EXECUTE ON FUNCTION queue._step_forget(queue.registry, integer) FROM PUBLIC;
