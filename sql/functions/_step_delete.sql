/*
 * Worker step, parts 3 and 4: run stmt, a DELETE of at most $2 rows of
 * queue.<tbl> (%1$I in stmt) past the age $1, and return how many rows
 * went.  A table of no pages (never written, or truncated by vacuum) is
 * skipped without planning the statement: most queues archive nothing and
 * use no idempotency keys or producers.
 */
CREATE FUNCTION queue._step_delete(tbl text, stmt text, age interval, batch integer)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF pg_catalog.pg_relation_size(format('queue.%I', tbl)) OPERATOR(pg_catalog.=) 0 THEN
		RETURN 0;
	END IF;
	EXECUTE format(stmt, tbl) USING age, batch;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue._step_delete(text, text, interval, integer) IS
'Internal: worker step parts 3 and 4, run a batch DELETE on a housekeeping table unless it is empty; returns how many rows went.';

REVOKE EXECUTE ON FUNCTION queue._step_delete(text, text, interval, integer) FROM PUBLIC;
