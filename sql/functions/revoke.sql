CREATE FUNCTION queue."revoke"(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_revoke';

COMMENT ON FUNCTION queue."revoke"(text, name, text) IS
'Revoke send, consume or manage on a queue from a role (what its other privileges include stays). Needs manage.';
