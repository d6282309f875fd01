CREATE FUNCTION queue.health(max_ready_age interval DEFAULT '5 minutes',
							 max_xact_age interval DEFAULT '5 minutes')
RETURNS TABLE (severity text, queue_name text, finding text, detail text,
			   figure numeric, action text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM queue._health($1, $2) h
	 ORDER BY CASE h.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
			  h.queue_name NULLS FIRST, h.finding
$$;

COMMENT ON FUNCTION queue.health(interval, interval) IS
'What is wrong, one row per finding, worst first: a worker missing, stalled or failing; what holds back the xmin horizon (transactions, prepared transactions, replication slots, standbys); per queue the caller may consume from, dead rows, the oldest ready message against max_ready_age, recent dead letters, a pause.';
