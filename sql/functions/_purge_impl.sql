CREATE FUNCTION queue._purge_impl(queue_name text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	EXECUTE format('DELETE FROM queue.%I', 'q_' || queue_name);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._purge_impl(text) IS
'Internal: the work of queue.purge, run as the extension''s owner; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._purge_impl(text) FROM PUBLIC;
