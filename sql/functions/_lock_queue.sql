/* Raise 42704 unless the queue exists; lock its catalog row. */
CREATE FUNCTION queue._lock_queue(queue_name text)
RETURNS queue.registry
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r queue.registry;
BEGIN
	PERFORM queue._check_name(queue_name);
	SELECT * INTO r FROM queue.registry q
	 WHERE q.queue_name OPERATOR(pg_catalog.=) _lock_queue.queue_name
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM queue._not_here(queue_name);
		RAISE EXCEPTION 'queue "%" does not exist', queue_name
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN r;
END
$$;

COMMENT ON FUNCTION queue._lock_queue(text) IS
'Internal: raise 42704 unless the queue exists; lock and return its registry row.';

REVOKE EXECUTE ON FUNCTION queue._lock_queue(text) FROM PUBLIC;
