/* queue.stats of every node's queues. */
CREATE FUNCTION queue.cluster_stats(exact boolean DEFAULT false)
RETURNS TABLE (node_name text, node_port integer, queue_name text,
			   ready bigint, in_flight bigint, delayed bigint, dead bigint,
			   archived bigint, oldest_ready_age interval, sent_total bigint,
			   acked_total bigint, dead_total bigint, as_of timestamptz)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.node_name, n.node_port, s.*
	  FROM queue._on_all_nodes('stats', exact) n,
		   pg_catalog.json_to_recordset(n.result)
			 AS s(queue_name text, ready bigint, in_flight bigint, delayed bigint,
				  dead bigint, archived bigint, oldest_ready_age interval,
				  sent_total bigint, acked_total bigint, dead_total bigint,
				  as_of timestamptz)
	 ORDER BY s.queue_name, n.node_name, n.node_port
$$;

COMMENT ON FUNCTION queue.cluster_stats(boolean) IS
'queue.stats() of every node of the Citus cluster (of this server alone without Citus).';
