CREATE FUNCTION queue."alter"(
	queue_name			text,
	visibility_timeout	interval DEFAULT NULL,
	max_deliveries		integer DEFAULT NULL,
	retry_delay			interval DEFAULT NULL,
	retry_delay_max		interval DEFAULT NULL,
	dedup_window		interval DEFAULT NULL,
	retention			interval DEFAULT NULL,
	ordered				boolean DEFAULT NULL,
	unlogged			boolean DEFAULT NULL,
	max_in_flight_per_group integer DEFAULT NULL,
	dead_letter_queue	text DEFAULT NULL,
	message_ttl			interval DEFAULT NULL,
	drop_expired		boolean DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_alter';

COMMENT ON FUNCTION queue."alter"(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean) IS
'Change the options of a queue; NULL keeps an option as it is. Needs manage.';
