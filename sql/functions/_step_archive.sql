/*
 * Worker step, part 3: archived messages of queue q past its retention
 * are deleted, at most batch of them; with no retention (turned off), the
 * whole archive goes.  Returns how many.  An archive of no pages (never
 * written, or truncated by vacuum) is skipped without planning a
 * statement for it: most queues archive nothing.
 */
CREATE FUNCTION queue._step_archive(q queue.registry, batch integer)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF pg_catalog.pg_relation_size(format('queue.%I', 'a_' || q.queue_name))
	   OPERATOR(pg_catalog.=) 0 THEN
		RETURN 0;
	END IF;
	EXECUTE format(
		'DELETE FROM queue.%1$I a WHERE a.id IN ('
		'  SELECT id FROM queue.%1$I'
		'   WHERE $1::interval IS NULL OR acked_at < clock_timestamp() - $1'
		'   ORDER BY acked_at LIMIT $2)',
		'a_' || q.queue_name)
		USING q.retention, batch;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._step_archive(queue.registry, integer) IS
'Internal: worker step part 3, delete the archived messages of a queue past its retention; returns how many.';

REVOKE EXECUTE ON FUNCTION queue._step_archive(queue.registry, integer) FROM PUBLIC;
