CREATE FUNCTION queue.purge(queue_name text)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_purge';

COMMENT ON FUNCTION queue.purge(text) IS
'Delete every message of a queue (not its dead letters); returns how many. Needs manage.';
