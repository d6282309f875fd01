CREATE FUNCTION queue.read(
	queue_name			text,
	quantity			integer DEFAULT 1,
	visibility_timeout	interval DEFAULT NULL,
	wait				interval DEFAULT NULL)
RETURNS SETOF queue.message
LANGUAGE c VOLATILE ROWS 10
AS 'MODULE_PATHNAME', 'queue_read';

COMMENT ON FUNCTION queue.read(text, integer, interval, interval) IS
'Hand out up to quantity visible messages, hidden for the visibility timeout; with wait, sleep until a send commits (long poll). Skips locked rows. Needs consume.';
