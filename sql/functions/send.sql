/* ---------------------------------------------------------------------
 * Producing, consuming, settling (C, the hot path)
 *
 * These pin their search path in C (pg_catalog only, while their
 * statements are prepared and run: see src/spi_util.c) instead of with a
 * SET clause, which would cost a GUC save and restore on every call.
 * ---------------------------------------------------------------------
 */
CREATE FUNCTION queue.send(
	queue_name		text,
	body			jsonb,
	headers			jsonb DEFAULT NULL,
	delay			interval DEFAULT NULL,
	idempotency_key	text DEFAULT NULL,
	group_key		text DEFAULT NULL,
	priority		integer DEFAULT 0,
	producer		text DEFAULT NULL,
	producer_seq	bigint DEFAULT NULL,
	ttl				interval DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_send';

COMMENT ON FUNCTION queue.send(text, jsonb, jsonb, interval, text, text, integer, text, bigint, interval) IS
'Send one message in the caller''s transaction; returns its id (the first id again for a repeated idempotency key or producer sequence). Needs send.';
