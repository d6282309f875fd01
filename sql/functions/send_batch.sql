CREATE FUNCTION queue.send_batch(
	queue_name			text,
	bodies				jsonb[],
	headers				jsonb[] DEFAULT NULL,
	delay				interval DEFAULT NULL,
	idempotency_keys	text[] DEFAULT NULL,
	group_keys			text[] DEFAULT NULL,
	priority			integer DEFAULT 0,
	ttl					interval DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE c VOLATILE ROWS 100
AS 'MODULE_PATHNAME', 'queue_send_batch';

COMMENT ON FUNCTION queue.send_batch(text, jsonb[], jsonb[], interval, text[], text[], integer, interval) IS
'Send several messages in one call; returns their ids in input order. Needs send.';
