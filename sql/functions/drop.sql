CREATE FUNCTION queue."drop"(queue_name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_drop';

COMMENT ON FUNCTION queue."drop"(text, boolean) IS
'Drop a queue with its messages, dead letters and archive; false if it did not exist and if_exists. Needs manage.';
