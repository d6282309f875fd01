CREATE FUNCTION queue.extend(queue_name text, id bigint, visibility_timeout interval,
							 receipt integer DEFAULT NULL)
RETURNS timestamptz
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_extend';

COMMENT ON FUNCTION queue.extend(text, bigint, interval, integer) IS
'Keep a message hidden for visibility_timeout more from now (a heartbeat for long work); returns the new visible_at. Needs consume.';
