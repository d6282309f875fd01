/* queue.queues of every node. */
CREATE FUNCTION queue.cluster_queues()
RETURNS TABLE (node_name text, node_port integer, queue_name text,
			   created_at timestamptz, visibility_timeout interval,
			   max_deliveries integer, retry_delay interval,
			   retry_delay_max interval, dedup_window interval,
			   retention interval, ordered boolean, unlogged boolean,
			   paused boolean, max_in_flight_per_group integer,
			   dead_letter_queue text, message_ttl interval,
			   drop_expired boolean)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.node_name, n.node_port, q.*
	  FROM queue._on_all_nodes('queues') n,
		   pg_catalog.json_populate_recordset(NULL::queue.queues, n.result) q
	 ORDER BY q.queue_name, n.node_name, n.node_port
$$;

COMMENT ON FUNCTION queue.cluster_queues() IS
'queue.queues of every node of the Citus cluster (of this server alone without Citus).';
