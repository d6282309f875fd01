/* ---------------------------------------------------------------------
 * Fan-out
 * ---------------------------------------------------------------------
 */
CREATE FUNCTION queue._bind_impl(topic text, queue_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(topic, 'topic name'::pg_catalog.text);
	PERFORM queue._one_node('bind');
	PERFORM queue._lock_queue(queue_name);
	INSERT INTO queue.bindings (topic, queue_name)
	VALUES (_bind_impl.topic, _bind_impl.queue_name)
	ON CONFLICT DO NOTHING;
END
$$;

COMMENT ON FUNCTION queue._bind_impl(text, text) IS
'Internal: the work of queue.bind, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._bind_impl(text, text) FROM PUBLIC;
