CREATE FUNCTION queue."create"(
	queue_name			text,
	visibility_timeout	interval DEFAULT '30 seconds',
	max_deliveries		integer DEFAULT 5,
	retry_delay			interval DEFAULT '1 second',
	retry_delay_max		interval DEFAULT '15 minutes',
	dedup_window		interval DEFAULT '5 minutes',
	retention			interval DEFAULT NULL,
	ordered				boolean DEFAULT false,
	unlogged			boolean DEFAULT false,
	if_not_exists		boolean DEFAULT false,
	max_in_flight_per_group integer DEFAULT NULL,
	dead_letter_queue	text DEFAULT NULL,
	message_ttl			interval DEFAULT NULL,
	drop_expired		boolean DEFAULT false)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_create';

COMMENT ON FUNCTION queue."create"(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, integer, text, interval, boolean) IS
'Create a queue and its tables (q_, dl_, a_, k_, p_<name>); the creator gets manage on it. Needs CREATE on schema queue.';
