CREATE FUNCTION queue._alter_impl(
	queue_name			text,
	visibility_timeout	interval,
	max_deliveries		integer,
	retry_delay			interval,
	retry_delay_max		interval,
	dedup_window		interval,
	retention			interval,
	ordered				boolean,
	unlogged			boolean,
	max_in_flight_per_group integer,
	dead_letter_queue	text,
	message_ttl			interval,
	drop_expired		boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	old queue.registry;
	new queue.registry;
	tab text;
BEGIN
	old := queue._lock_queue(queue_name);
	new := old;
	new.visibility_timeout := coalesce(visibility_timeout, old.visibility_timeout);
	new.max_deliveries := coalesce(max_deliveries, old.max_deliveries);
	new.retry_delay := coalesce(retry_delay, old.retry_delay);
	new.retry_delay_max := coalesce(retry_delay_max, old.retry_delay_max);
	new.dedup_window := coalesce(dedup_window, old.dedup_window);
	new.retention := coalesce(retention, old.retention);
	new.max_in_flight_per_group := queue._group_limit(ordered, max_in_flight_per_group,
													  old.max_in_flight_per_group);
	new.ordered := new.max_in_flight_per_group IS NOT DISTINCT FROM 1;
	new.unlogged := coalesce(unlogged, old.unlogged);
	/* '' sends dead letters to the queue's own dead letters again */
	IF dead_letter_queue IS NOT NULL THEN
		new.dead_letter_queue := queue._check_dead_letter_queue(queue_name, dead_letter_queue);
	END IF;
	/* 0 takes the ttl away */
	IF message_ttl IS NOT NULL THEN
		new.message_ttl := queue._check_ttl(message_ttl);
	END IF;
	new.drop_expired := coalesce(drop_expired, old.drop_expired);
	PERFORM queue._check_options(new.visibility_timeout, new.max_deliveries,
								 new.retry_delay, new.retry_delay_max,
								 new.dedup_window, new.retention);
	/* a zero retention turns archiving off again */
	IF new.retention OPERATOR(pg_catalog.=) interval '0' THEN
		new.retention := NULL;
	END IF;

	/*
	 * Lock what changes, the message table first, as every function using
	 * a queue does (src/plan_cache.c, queue_lookup_for): no deadlock with
	 * senders that go on to the key and producer tables.
	 */
	IF new.unlogged IS DISTINCT FROM old.unlogged THEN
		EXECUTE format('LOCK TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I '
					   'IN ACCESS EXCLUSIVE MODE',
					   'q_' || queue_name, 'p_' || queue_name, 'k_' || queue_name,
					   'dl_' || queue_name, 'a_' || queue_name);
	ELSIF new.ordered IS DISTINCT FROM old.ordered THEN
		/* no message may arrive between the check below and the change */
		EXECUTE format('LOCK TABLE queue.%I IN SHARE ROW EXCLUSIVE MODE', 'q_' || queue_name);
	END IF;

	IF new.ordered IS DISTINCT FROM old.ordered THEN
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I)', 'q_' || queue_name)
			INTO STRICT tab;
		IF tab::boolean THEN
			RAISE EXCEPTION 'cannot change "ordered" of queue "%" while it holds messages', queue_name
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Drain or purge the queue first.';
		END IF;
	END IF;

	IF new.unlogged IS DISTINCT FROM old.unlogged THEN
		FOREACH tab IN ARRAY ARRAY['q_', 'dl_', 'a_', 'k_', 'p_'] LOOP
			EXECUTE format('ALTER TABLE queue.%I SET %s', tab || queue_name,
						   CASE WHEN new.unlogged THEN 'UNLOGGED' ELSE 'LOGGED' END);
		END LOOP;
	END IF;

	UPDATE queue.registry r
	   SET visibility_timeout = new.visibility_timeout,
		   max_deliveries = new.max_deliveries,
		   retry_delay = new.retry_delay,
		   retry_delay_max = new.retry_delay_max,
		   dedup_window = new.dedup_window,
		   retention = new.retention,
		   ordered = new.ordered,
		   unlogged = new.unlogged,
		   max_in_flight_per_group = new.max_in_flight_per_group,
		   dead_letter_queue = new.dead_letter_queue,
		   message_ttl = new.message_ttl,
		   drop_expired = new.drop_expired
	 WHERE r.queue_name OPERATOR(pg_catalog.=) _alter_impl.queue_name;

	PERFORM queue._invalidate(queue_name);
	/* other delivery rules: reads look at every live message again */
	PERFORM queue._rewind(format('queue.%I', 'q_' || queue_name)::regclass::oid, 0, false);
	/* a shorter message_ttl may have expired messages */
	IF new.message_ttl IS NOT NULL THEN
		PERFORM queue._note_expiry(format('queue.%I', 'q_' || queue_name)::regclass::oid,
								   '-infinity'::pg_catalog.timestamptz);
	END IF;
	/* a lower max_deliveries may have made poison of messages */
	PERFORM queue._sweep_at(format('queue.%I', 'q_' || queue_name)::regclass::oid,
							'-infinity'::pg_catalog.timestamptz);
END
$$;

COMMENT ON FUNCTION queue._alter_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean) IS
'Internal: the work of queue.alter, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._alter_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean) FROM PUBLIC;
