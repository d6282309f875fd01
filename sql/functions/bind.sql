CREATE FUNCTION queue.bind(topic text, queue_name text)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_bind';

COMMENT ON FUNCTION queue.bind(text, text) IS
'Bind a queue to a topic: queue.publish to the topic sends it a copy. Needs manage on the queue.';
