/* The public face of queue._stats (an argument may share its name with a
 * result column in SQL functions only). */
CREATE FUNCTION queue.stats(queue_name text DEFAULT NULL, exact boolean DEFAULT false)
RETURNS TABLE (queue_name text, ready bigint, in_flight bigint, delayed bigint,
			   dead bigint, archived bigint, oldest_ready_age interval,
			   sent_total bigint, acked_total bigint, dead_total bigint,
			   as_of timestamptz)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM queue._stats($1, $2) $$;

COMMENT ON FUNCTION queue.stats(text, boolean) IS
'One row per queue: ready, in flight, delayed, dead, archived, oldest ready age, sent/acked/dead totals, and as_of: the counts are the worker''s last measurement unless exact is true. Without a queue name, every queue the caller may consume from. Needs consume, or the privileges of pg_read_all_stats (not with exact).';
