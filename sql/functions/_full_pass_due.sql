/* which queues a worker step visits (src/schedule.c) */
CREATE FUNCTION queue._full_pass_due()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_full_pass_due_sql';

COMMENT ON FUNCTION queue._full_pass_due() IS
'Internal (worker): whether this step visits every queue (always outside the background worker, once a minute in it).';

REVOKE EXECUTE ON FUNCTION queue._full_pass_due() FROM PUBLIC;
