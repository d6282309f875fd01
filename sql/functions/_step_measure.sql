/* Worker step, part 6: the counts of queue.stats and queue.metrics for
 * queue q (src/measure.c). */
CREATE FUNCTION queue._step_measure(q queue.registry, q_relid oid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m record;
BEGIN
	SELECT * INTO m FROM queue._count(q.queue_name);
	PERFORM queue._set_measured(q_relid, m.ready, m.in_flight, m.delayed,
								m.dead, m.archived, m.oldest_ready,
								m.next_change, m.as_of);
END
$$;

COMMENT ON FUNCTION queue._step_measure(queue.registry, oid) IS
'Internal: worker step part 6, count the messages of a queue for queue.stats and queue.metrics.';

REVOKE EXECUTE ON FUNCTION queue._step_measure(queue.registry, oid) FROM PUBLIC;
