/* Worker step, part 8: readers asleep in queue.read(wait => ...) on queue
 * q while a delay or a visibility timeout ran out are woken. */
CREATE FUNCTION queue._step_wake(q queue.registry, q_relid oid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	due boolean;
BEGIN
	EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I'
				   ' WHERE visible_at <= clock_timestamp())',
				   'q_' || q.queue_name)
		INTO due;
	IF due THEN
		PERFORM queue._wake(q_relid);
	END IF;
END
$$;

COMMENT ON FUNCTION queue._step_wake(queue.registry, oid) IS
'Internal: worker step part 8, wake the readers sleeping on a queue where messages have become visible.';

REVOKE EXECUTE ON FUNCTION queue._step_wake(queue.registry, oid) FROM PUBLIC;
