CREATE FUNCTION queue._resume_impl(queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r queue.registry;
BEGIN
	r := queue._lock_queue(queue_name);
	IF NOT r.paused THEN
		RETURN false;
	END IF;
	UPDATE queue.registry g SET paused = false
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _resume_impl.queue_name;
	PERFORM queue._invalidate(queue_name);
	/* every long poll of the queue looks again at commit */
	PERFORM queue._count_visible(format('queue.%I', 'q_' || queue_name)::regclass::oid,
								 pg_catalog.int8 '2147483647');
	RETURN true;
END
$$;

COMMENT ON FUNCTION queue._resume_impl(text) IS
'Internal: the work of queue.resume, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._resume_impl(text) FROM PUBLIC;
