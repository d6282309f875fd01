/*
 * Worker step, part 7: queue q's message table, left mostly free space by
 * a held snapshot or a backlog and now drained and vacuumed
 * (src/schedule.c decides), is rewritten, which gives the space back; its
 * lock is waited for lock_timeout at most.
 */
CREATE FUNCTION queue._step_compact(q queue.registry)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE format('CLUSTER queue.%I USING %I', 'q_' || q.queue_name,
				   'qpk_' || q.queue_name);
	RAISE LOG 'compacted the message table of queue "%"', q.queue_name;
END
$$;

COMMENT ON FUNCTION queue._step_compact(queue.registry) IS
'Internal: worker step part 7, rewrite the message table of a queue that is mostly free space.';

REVOKE EXECUTE ON FUNCTION queue._step_compact(queue.registry) FROM PUBLIC;
