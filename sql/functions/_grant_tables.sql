/*
 * Grant to role what reading its privilege on a queue includes: SELECT on
 * q_, dl_, a_ and p_ for consume, on all five tables for manage, nothing
 * for send; and, for each, the anchor: SELECT on the queue's id sequence,
 * without which its rows in queue.grants count for nothing (src/acl.c).
 */
CREATE FUNCTION queue._grant_tables(queue_name text, role regrole, privilege text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	CASE privilege
	WHEN 'send' THEN
		NULL;
	WHEN 'consume' THEN
		EXECUTE format('GRANT SELECT ON TABLE queue.%I, queue.%I, queue.%I, queue.%I TO %s',
					   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
					   'p_' || queue_name, role);
	WHEN 'manage' THEN
		EXECUTE format('GRANT SELECT ON TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I TO %s',
					   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
					   'k_' || queue_name, 'p_' || queue_name, role);
	END CASE;
	EXECUTE format('GRANT SELECT ON SEQUENCE %s TO %s',
				   pg_catalog.pg_get_serial_sequence(format('queue.%I', 'q_' || queue_name), 'id'),
				   role);
END
$$;

COMMENT ON FUNCTION queue._grant_tables(text, regrole, text) IS
'Internal: grant a role the reading that send, consume or manage on a queue includes (SELECT on some of its tables), and the anchor (SELECT on the queue''s id sequence).';

REVOKE EXECUTE ON FUNCTION queue._grant_tables(text, regrole, text) FROM PUBLIC;
