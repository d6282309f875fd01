/*
 * The dead-letter queue a queue may send its dead letters to: NULL or ''
 * for none; 42704 for a missing queue, 22023 for the queue itself or a
 * chain that comes back to it.  The caller's send privilege on it is
 * checked in C (src/acl.c) before this runs as the owner.
 */
CREATE FUNCTION queue._check_dead_letter_queue(queue_name text, dead_letter_queue text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d text := dead_letter_queue;
	hops integer := 0;
BEGIN
	IF d IS NULL OR d OPERATOR(pg_catalog.=) '' THEN
		RETURN NULL;
	END IF;
	PERFORM queue._check_name(d, 'dead_letter_queue');
	IF d OPERATOR(pg_catalog.=) queue_name THEN
		RAISE EXCEPTION 'queue "%" cannot be its own dead-letter queue', queue_name
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	/* the queue's row is locked by now (create inserted it, alter locked it) */
	PERFORM 1 FROM queue.registry r WHERE r.queue_name OPERATOR(pg_catalog.=) d FOR KEY SHARE;
	IF NOT FOUND THEN
		PERFORM queue._not_here(d, 'dead-letter queue');
		RAISE EXCEPTION 'dead-letter queue "%" does not exist', d USING ERRCODE = 'undefined_object';
	END IF;
	LOOP
		SELECT r.dead_letter_queue INTO d FROM queue.registry r
		 WHERE r.queue_name OPERATOR(pg_catalog.=) d;
		EXIT WHEN d IS NULL;
		hops := hops OPERATOR(pg_catalog.+) 1;
		IF d OPERATOR(pg_catalog.=) queue_name OR hops OPERATOR(pg_catalog.>) 1000 THEN
			RAISE EXCEPTION 'the dead letters of queue "%" would come back to it through "%"',
				queue_name, dead_letter_queue USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	RETURN dead_letter_queue;
END
$$;

COMMENT ON FUNCTION queue._check_dead_letter_queue(text, text) IS
'Internal: the dead_letter_queue a queue may have (42704 missing, 22023 itself or a cycle); not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._check_dead_letter_queue(text, text) FROM PUBLIC;
