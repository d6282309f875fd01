/*
 * Pause and resume (during an incident or a deploy): while a queue is
 * paused, sends are accepted, reads and pops return nothing and long polls
 * keep sleeping; the worker still redelivers and dead-letters.  Each
 * returns whether it changed the queue's state.
 */
CREATE FUNCTION queue._pause_impl(queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r queue.registry;
BEGIN
	r := queue._lock_queue(queue_name);
	IF r.paused THEN
		RETURN false;
	END IF;
	UPDATE queue.registry g SET paused = true
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _pause_impl.queue_name;
	PERFORM queue._invalidate(queue_name);
	RETURN true;
END
$$;

COMMENT ON FUNCTION queue._pause_impl(text) IS
'Internal: the work of queue.pause, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._pause_impl(text) FROM PUBLIC;
