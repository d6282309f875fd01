/*
 * Whether a role (the current user in the second form) holds a privilege
 * ('send', 'consume' or 'manage') on a queue, as has_table_privilege
 * answers for a table (src/acl.c).
 */
CREATE FUNCTION queue.has_queue_privilege(role regrole, queue_name text, privilege text)
RETURNS boolean
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_has_privilege_role';

CREATE FUNCTION queue.has_queue_privilege(queue_name text, privilege text)
RETURNS boolean
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_has_privilege_current';

COMMENT ON FUNCTION queue.has_queue_privilege(regrole, text, text) IS
'Whether a role holds send, consume or manage on a queue (directly, through a role it has the privileges of, or as the owner or a superuser), as has_table_privilege answers for a table.';
COMMENT ON FUNCTION queue.has_queue_privilege(text, text) IS
'Whether the current user holds send, consume or manage on a queue.';
