/*
 * nack and extend take an optional receipt beyond the contract: the
 * delivery_count the consumer was handed, as ack does, so that a consumer
 * whose visibility timeout ran out cannot nack or extend a later delivery.
 */
CREATE FUNCTION queue.nack(
	queue_name	text,
	id			bigint,
	delay		interval DEFAULT NULL,
	reason		text DEFAULT NULL,
	receipt		integer DEFAULT NULL)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_nack';

COMMENT ON FUNCTION queue.nack(text, bigint, interval, text, integer) IS
'Give a message back: visible again after delay (default: the queue''s backoff), or to the dead letters with reason at max_deliveries. Needs consume.';
