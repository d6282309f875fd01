CREATE FUNCTION queue._stats(which text, exact boolean)
RETURNS TABLE (queue_name text, ready bigint, in_flight bigint, delayed bigint,
			   dead bigint, archived bigint, oldest_ready_age interval,
			   sent_total bigint, acked_total bigint, dead_total bigint,
			   as_of timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	qname text;
	relid oid;
	m record;
	c record;
	monitor boolean := NOT exact
		AND pg_catalog.pg_has_role('pg_read_all_stats'::pg_catalog.name, 'USAGE'::pg_catalog.text);
	may_count boolean;
BEGIN
	IF exact IS NULL THEN
		RAISE EXCEPTION 'exact must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	/*
	 * One queue needs consume on it; all queues are those the caller may
	 * consume from.  Without exact, a role with the privileges of
	 * pg_read_all_stats sees every queue's counts (not its messages).
	 */
	IF which IS NOT NULL AND NOT monitor THEN
		PERFORM queue._check_access(which, 'consume'::pg_catalog.text);
	ELSIF which IS NOT NULL THEN
		PERFORM queue._check_name(which);
		IF NOT EXISTS (SELECT 1 FROM queue.queues r
						WHERE r.queue_name OPERATOR(pg_catalog.=) which) THEN
			PERFORM queue._not_here(which);
			RAISE EXCEPTION 'queue "%" does not exist', which USING ERRCODE = 'undefined_object';
		END IF;
	END IF;
	FOR qname IN
		SELECT r.queue_name FROM queue.queues r
		 WHERE (which IS NULL
				AND (monitor OR queue.has_queue_privilege(r.queue_name, 'consume'::pg_catalog.text)))
			OR r.queue_name OPERATOR(pg_catalog.=) which
		 ORDER BY r.queue_name
	LOOP
		relid := pg_catalog.to_regclass(format('queue.%I', 'q_' || qname))::oid;
		BEGIN
			IF relid IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'undefined_table';
			END IF;
			SELECT * INTO m FROM queue._measured(relid);
			queue_name := qname;
			sent_total := m.sent_total;
			acked_total := m.acked_total;
			dead_total := m.dead_total;
			may_count := exact OR queue.has_queue_privilege(qname, 'consume'::pg_catalog.text);
			IF m.as_of IS NULL AND NOT may_count THEN
				/* not measured yet, and not the caller's to count */
				ready := NULL; in_flight := NULL; delayed := NULL; dead := NULL;
				archived := NULL; oldest_ready_age := NULL; as_of := NULL;
			ELSIF exact OR m.as_of IS NULL THEN
				SELECT * INTO c FROM queue._count(qname);
				ready := c.ready; in_flight := c.in_flight; delayed := c.delayed;
				dead := c.dead; archived := c.archived;
				oldest_ready_age := c.as_of - c.oldest_ready;
				as_of := c.as_of;
			ELSE
				ready := m.ready; in_flight := m.in_flight; delayed := m.delayed;
				dead := m.dead; archived := m.archived;
				oldest_ready_age := m.oldest_ready_age;
				as_of := m.as_of;
			END IF;
			RETURN NEXT;
		EXCEPTION WHEN undefined_table OR undefined_object THEN
			/* dropped since the loop began */
			IF which IS NOT NULL THEN
				PERFORM queue._not_here(which);
				RAISE EXCEPTION 'queue "%" does not exist', which USING ERRCODE = 'undefined_object';
			END IF;
		END;
	END LOOP;
END
$$;

COMMENT ON FUNCTION queue._stats(text, boolean) IS
'Internal: the rows of queue.stats for one queue, or (NULL) every queue the caller may see the counts of.';
