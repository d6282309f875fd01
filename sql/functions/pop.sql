CREATE FUNCTION queue.pop(queue_name text, quantity integer DEFAULT 1)
RETURNS SETOF queue.message
LANGUAGE c VOLATILE ROWS 10
AS 'MODULE_PATHNAME', 'queue_pop';

COMMENT ON FUNCTION queue.pop(text, integer) IS
'Read and delete up to quantity messages in one step (at-most-once). Needs consume.';
