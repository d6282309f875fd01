CREATE FUNCTION queue._grant_impl(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r regrole;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	r := queue._grantee(queue_name, role, privilege);
	IF r IS NULL THEN
		RETURN;		-- the owner has it already
	END IF;
	INSERT INTO queue.grants (queue_name, grantee, privilege)
	VALUES (_grant_impl.queue_name, r, _grant_impl.privilege)
	ON CONFLICT DO NOTHING;
	PERFORM queue._grant_tables(queue_name, r, privilege);
	PERFORM queue._invalidate(queue_name);
END
$$;

COMMENT ON FUNCTION queue._grant_impl(text, name, text) IS
'Internal: the work of queue.grant, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._grant_impl(text, name, text) FROM PUBLIC;
