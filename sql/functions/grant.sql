CREATE FUNCTION queue."grant"(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_grant';

COMMENT ON FUNCTION queue."grant"(text, name, text) IS
'Grant a role send, consume or manage on a queue. Needs manage.';
