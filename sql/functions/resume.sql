CREATE FUNCTION queue.resume(queue_name text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_resume';

COMMENT ON FUNCTION queue.resume(text) IS
'Resume a paused queue and wake its long polls at commit. Returns whether it was paused. Needs manage.';
