CREATE FUNCTION queue._unbind_impl(topic text, queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(topic, 'topic name'::pg_catalog.text);
	PERFORM queue._lock_queue(queue_name);
	DELETE FROM queue.bindings b
	 WHERE b.topic OPERATOR(pg_catalog.=) _unbind_impl.topic
	   AND b.queue_name OPERATOR(pg_catalog.=) _unbind_impl.queue_name;
	RETURN FOUND;
END
$$;

COMMENT ON FUNCTION queue._unbind_impl(text, text) IS
'Internal: the work of queue.unbind, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._unbind_impl(text, text) FROM PUBLIC;
