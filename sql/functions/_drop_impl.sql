CREATE FUNCTION queue._drop_impl(queue_name text, if_exists boolean)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	other text;
BEGIN
	PERFORM queue._check_name(queue_name);
	PERFORM 1 FROM queue.registry r
	  WHERE r.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name
	  FOR UPDATE;
	IF NOT FOUND THEN
		IF coalesce(if_exists, false) THEN
			RETURN false;
		END IF;
		PERFORM queue._not_here(queue_name);
		RAISE EXCEPTION 'queue "%" does not exist', queue_name
			USING ERRCODE = 'undefined_object';
	END IF;

	SELECT r.queue_name INTO other FROM queue.registry r
	 WHERE r.dead_letter_queue OPERATOR(pg_catalog.=) _drop_impl.queue_name
	 ORDER BY r.queue_name LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'queue "%" is the dead-letter queue of queue "%"', queue_name, other
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = format('Drop queue "%s" first, or queue.alter(%L, dead_letter_queue => '''').',
								other, other);
	END IF;
	EXECUTE format('DROP TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I',
				   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
				   'k_' || queue_name, 'p_' || queue_name);
	DELETE FROM queue.bindings b
	 WHERE b.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name;
	DELETE FROM queue.grants g
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name;
	DELETE FROM queue.registry r
	 WHERE r.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name;
	RETURN true;
END
$$;

COMMENT ON FUNCTION queue._drop_impl(text, boolean) IS
'Internal: the work of queue.drop, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._drop_impl(text, boolean) FROM PUBLIC;
