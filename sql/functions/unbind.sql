CREATE FUNCTION queue.unbind(topic text, queue_name text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_unbind';

COMMENT ON FUNCTION queue.unbind(text, text) IS
'Unbind a queue from a topic; false if it was not bound. Needs manage on the queue.';
