CREATE FUNCTION queue.pause(queue_name text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_pause';

COMMENT ON FUNCTION queue.pause(text) IS
'Pause a queue: sends are accepted, reads and pops return nothing and long polls sleep until resume; the worker still redelivers and dead-letters. Returns whether it was running. Needs manage.';
