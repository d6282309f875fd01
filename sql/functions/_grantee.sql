/*
 * Look up role for grant and revoke: 42704 if there is no such role, 22023
 * for an unknown privilege.  Returns NULL for the tables' owner (the
 * extension's owner), who holds every privilege.
 */
CREATE FUNCTION queue._grantee(queue_name text, role name, privilege text)
RETURNS regrole
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r oid;
BEGIN
	IF privilege IS NULL OR role IS NULL THEN
		RAISE EXCEPTION '% must not be NULL', CASE WHEN role IS NULL THEN 'role' ELSE 'privilege' END
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF privilege OPERATOR(pg_catalog.<>) ALL (ARRAY['send', 'consume', 'manage']) THEN
		RAISE EXCEPTION 'unknown queue privilege "%"', privilege
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The privileges are send, consume and manage.';
	END IF;
	SELECT a.oid INTO r FROM pg_catalog.pg_roles a
	 WHERE a.rolname OPERATOR(pg_catalog.=) role;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" does not exist', role
			USING ERRCODE = 'undefined_object';
	END IF;
	IF r OPERATOR(pg_catalog.=)
	   (SELECT c.relowner FROM pg_catalog.pg_class c
		 WHERE c.oid OPERATOR(pg_catalog.=) format('queue.%I', 'q_' || queue_name)::regclass) THEN
		RETURN NULL;
	END IF;
	PERFORM queue._forget_unanchored();
	RETURN r::regrole;
END
$$;

COMMENT ON FUNCTION queue._grantee(text, name, text) IS
'Internal: look up the role of grant and revoke (42704 if none, 22023 for an unknown privilege); NULL for the tables'' owner.';

REVOKE EXECUTE ON FUNCTION queue._grantee(text, name, text) FROM PUBLIC;
