/*
 * Revoking a privilege deletes its row, takes back every table privilege
 * of role on the queue (the anchor included), then grants again what the
 * privileges role still holds on it include: manage includes send and
 * consume, so a manager whose send is revoked still sends.
 */
CREATE FUNCTION queue._revoke_impl(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r regrole;
	p text;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	r := queue._grantee(queue_name, role, privilege);
	IF r IS NULL THEN
		RAISE EXCEPTION 'cannot revoke privileges on queue "%" from its owner', queue_name
			USING ERRCODE = 'invalid_grant_operation',
				  DETAIL = 'The tables of every queue belong to the owner of the extension.';
	END IF;
	DELETE FROM queue.grants g
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _revoke_impl.queue_name
	   AND g.grantee OPERATOR(pg_catalog.=) r
	   AND g.privilege OPERATOR(pg_catalog.=) _revoke_impl.privilege;
	EXECUTE format('REVOKE ALL ON TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I FROM %s',
				   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
				   'k_' || queue_name, 'p_' || queue_name, r);
	EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %s',
				   pg_catalog.pg_get_serial_sequence(format('queue.%I', 'q_' || queue_name), 'id'), r);
	FOR p IN
		SELECT g.privilege FROM queue.grants g
		 WHERE g.queue_name OPERATOR(pg_catalog.=) _revoke_impl.queue_name
		   AND g.grantee OPERATOR(pg_catalog.=) r
	LOOP
		PERFORM queue._grant_tables(queue_name, r, p);
	END LOOP;
	PERFORM queue._invalidate(queue_name);
END
$$;

COMMENT ON FUNCTION queue._revoke_impl(text, name, text) IS
'Internal: the work of queue.revoke, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._revoke_impl(text, name, text) FROM PUBLIC;
