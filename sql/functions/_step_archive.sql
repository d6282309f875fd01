/*
 * Worker step, part 3: archived messages of queue q past its retention
 * are deleted, at most batch of them; with no retention (turned off), the
 * whole archive goes.  Returns how many.
 */
CREATE FUNCTION queue._step_archive(q queue.registry, batch integer)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT queue._step_delete('a_' OPERATOR(pg_catalog.||) q.queue_name,
		'DELETE FROM queue.%1$I a WHERE a.id IN ('
		'  SELECT id FROM queue.%1$I'
		'   WHERE $1::interval IS NULL OR acked_at < clock_timestamp() - $1'
		'   ORDER BY acked_at LIMIT $2)',
		q.retention, batch)
$$;

COMMENT ON FUNCTION queue._step_archive(queue.registry, integer) IS
'Internal: worker step part 3, delete the archived messages of a queue past its retention; returns how many.';

REVOKE EXECUTE ON FUNCTION queue._step_archive(queue.registry, integer) FROM PUBLIC;
