/*
 * One of the views of this extension, on every node of the Citus cluster
 * (this node alone without Citus): what is 'queues' (queue.queues),
 * 'worker_status' (queue.worker_status) or 'stats' (queue.stats(), with
 * exact); its rows there as one JSON array per node, in the caller's name;
 * 08000 for a node that could not answer.  It runs only those three: a
 * function anyone may call does not run a query it is given.
 */
CREATE FUNCTION queue._on_all_nodes(what text, exact boolean DEFAULT false)
RETURNS TABLE (node_name text, node_port integer, result json)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	command text;
BEGIN
	IF exact IS NULL THEN
		RAISE EXCEPTION 'exact must not be NULL' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	command := CASE what
		WHEN 'queues' THEN 'SELECT * FROM queue.queues'
		WHEN 'worker_status' THEN 'SELECT * FROM queue.worker_status'
		WHEN 'stats' THEN pg_catalog.format('SELECT * FROM queue._stats(NULL, %L)', exact)
	END;
	IF command IS NULL THEN
		RAISE EXCEPTION 'unknown cluster view "%"', what
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The views are queues, worker_status and stats.';
	END IF;
	command := pg_catalog.format('SELECT coalesce(pg_catalog.json_agg(x), ''[]'') FROM (%s) x',
								 command);
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
		/* this server: its address, or localhost over a Unix socket */
		node_name := coalesce(pg_catalog.host(pg_catalog.inet_server_addr()), 'localhost');
		node_port := pg_catalog.current_setting('port')::integer;
		EXECUTE command INTO result;
		RETURN NEXT;
		RETURN;
	END IF;
	FOR r IN EXECUTE
		'SELECT coalesce(n.nodename, pg_catalog.current_setting(''citus.local_hostname'')) AS nodename,
				coalesce(n.nodeport, pg_catalog.current_setting(''port'')::integer) AS nodeport,
				c.success, c.result
		   FROM pg_catalog.run_command_on_all_nodes($1) c
		   LEFT JOIN pg_catalog.pg_dist_node n ON n.nodeid = c.nodeid
		  ORDER BY n.groupid NULLS FIRST, n.nodeid'
	  USING command
	LOOP
		IF NOT r.success THEN
			RAISE EXCEPTION 'node %:% did not answer', r.nodename, r.nodeport
				USING ERRCODE = 'connection_exception', DETAIL = r.result;
		END IF;
		node_name := r.nodename;
		node_port := r.nodeport;
		result := r.result::json;
		RETURN NEXT;
	END LOOP;
END
$$;

COMMENT ON FUNCTION queue._on_all_nodes(text, boolean) IS
'Internal: one of the views queues, worker_status or stats on every node of the Citus cluster, one JSON array of its rows per node (cluster_queues, cluster_stats, cluster_worker_status).';
