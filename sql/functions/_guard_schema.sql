/*
 * CREATE on schema queue is the right to create queues (README, Privileges), but
 * nobody other than the extension's owner (and superusers) may create
 * objects in the schema themselves: a function planted there could
 * overload one of the extension's and be called instead, by a caller or
 * by the managing functions, which run as the owner.  queue.create makes
 * its tables as the owner, so it passes.
 */
CREATE FUNCTION queue._guard_schema()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cmd record;
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER AND r.rolsuper)
	   OR CURRENT_USER OPERATOR(pg_catalog.=)
		  (SELECT pg_catalog.pg_get_userbyid(e.extowner) FROM pg_catalog.pg_extension e
			WHERE e.extname OPERATOR(pg_catalog.=) 'queue') THEN
		RETURN;
	END IF;
	FOR cmd IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
		IF cmd.schema_name OPERATOR(pg_catalog.=) 'queue' THEN
			RAISE EXCEPTION 'permission denied to create "%" in schema queue', cmd.object_identity
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'Only the owner of extension queue creates objects in its schema; CREATE on the schema is the right to create queues.',
					  HINT = 'Create queues with queue.create().';
		END IF;
	END LOOP;
END
$$;

COMMENT ON FUNCTION queue._guard_schema() IS
'Internal: event trigger function; refuses objects created in schema queue by anyone but the extension''s owner and superusers.';

REVOKE EXECUTE ON FUNCTION queue._guard_schema() FROM PUBLIC;
