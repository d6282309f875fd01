/*
 * Worker step, part 4: idempotency keys of queue q past its dedup_window
 * are forgotten, and so are the sequence numbers of producers silent for
 * that long, at most batch of each.  Returns how many rows went.  Empty
 * tables (of no pages) are skipped, as in part 3.
 */
CREATE FUNCTION queue._step_forget(q queue.registry, batch integer)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
	forgotten bigint := 0;
BEGIN
	/*
	 * Keys past the window; the age is checked again on the row deleted,
	 * which a send may have claimed again meanwhile.
	 */
	IF pg_catalog.pg_relation_size(format('queue.%I', 'k_' || q.queue_name))
	   OPERATOR(pg_catalog.>) 0 THEN
		EXECUTE format(
			'DELETE FROM queue.%1$I k WHERE k.key IN ('
			'  SELECT key FROM queue.%1$I'
			'   WHERE created_at < clock_timestamp() - $1'
			'   ORDER BY created_at LIMIT $2)'
			'  AND k.created_at < clock_timestamp() - $1',
			'k_' || q.queue_name)
			USING q.dedup_window, batch;
		GET DIAGNOSTICS n = ROW_COUNT;
		forgotten := forgotten + n;
	END IF;

	/* sequence numbers of producers silent for the window */
	IF pg_catalog.pg_relation_size(format('queue.%I', 'p_' || q.queue_name))
	   OPERATOR(pg_catalog.>) 0 THEN
		EXECUTE format(
			'DELETE FROM queue.%1$I p WHERE (p.producer, p.seq) IN ('
			'  SELECT producer, seq FROM queue.%1$I'
			'   WHERE producer IN (SELECT producer FROM queue.%1$I'
			'                       GROUP BY producer'
			'                      HAVING max(seen_at) < clock_timestamp() - $1)'
			'   LIMIT $2)',
			'p_' || q.queue_name)
			USING q.dedup_window, batch;
		GET DIAGNOSTICS n = ROW_COUNT;
		forgotten := forgotten + n;
	END IF;
	RETURN forgotten;
END
$$;

COMMENT ON FUNCTION queue._step_forget(queue.registry, integer) IS
'Internal: worker step part 4, forget the idempotency keys and producer sequence numbers of a queue past its dedup_window; returns how many.';

REVOKE EXECUTE ON FUNCTION queue._step_forget(queue.registry, integer) FROM PUBLIC;
