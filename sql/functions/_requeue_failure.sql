CREATE FUNCTION queue._requeue_failure(relid oid, id bigint, failures integer,
									   at_least integer DEFAULT 0)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_requeue_failure_sql';

COMMENT ON FUNCTION queue._requeue_failure(oid, bigint, integer, integer) IS
'Internal (worker): give failed deliveries (and a crash''s at_least) back for a later step, while the message is handed out or locked.';

REVOKE EXECUTE ON FUNCTION queue._requeue_failure(oid, bigint, integer, integer) FROM PUBLIC;
