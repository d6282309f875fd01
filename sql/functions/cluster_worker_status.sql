/* queue.worker_status of every node. */
CREATE FUNCTION queue.cluster_worker_status()
RETURNS TABLE (node_name text, node_port integer, database name, pid integer,
			   last_run timestamptz, runs bigint, dead_lettered bigint,
			   purged bigint, forgotten bigint, failures_counted bigint,
			   failures_dropped bigint, last_error text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.node_name, n.node_port, w.*
	  FROM queue._on_all_nodes('worker_status') n,
		   pg_catalog.json_populate_recordset(NULL::queue.worker_status, n.result) w
	 ORDER BY n.node_name, n.node_port, w.database
$$;

COMMENT ON FUNCTION queue.cluster_worker_status() IS
'queue.worker_status of every node of the Citus cluster (of this server alone without Citus).';
