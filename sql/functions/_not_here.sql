/*
 * Raise 55000, naming the node, when queue.placement places queue_name on
 * another node than this one: called before every "does not exist", and
 * by queue.create (a queue made anywhere else could never be reached).
 */
CREATE FUNCTION queue._not_here(queue_name text, what text DEFAULT 'queue')
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	owner integer;
	here integer;
	node text;
BEGIN
	IF queue_name IS NULL OR NOT queue._routed() THEN
		RETURN;
	END IF;
	EXECUTE 'SELECT p.groupid, n.nodename || '':'' || n.nodeport
			   FROM pg_catalog.pg_dist_placement p
			   JOIN pg_catalog.pg_dist_node n
				 ON n.groupid = p.groupid AND n.noderole = ''primary''
			  WHERE p.shardid = pg_catalog.get_shard_id_for_distribution_column(
								   ''queue.placement'', $1)
			  ORDER BY n.nodeid LIMIT 1'
	   INTO owner, node USING queue_name;
	EXECUTE 'SELECT groupid FROM pg_catalog.pg_dist_local_group' INTO here;
	IF owner IS DISTINCT FROM here AND node IS NOT NULL THEN
		RAISE EXCEPTION '% "%" is not on this node', what, queue_name
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  DETAIL = format('queue.placement places it on node %s.', node),
				  HINT = 'Call the queue functions on the coordinator, which sends each call to its queue''s node, or connect to that node.';
	END IF;
END
$$;

COMMENT ON FUNCTION queue._not_here(text, text) IS
'Internal: raise 55000 naming the node when queue.placement places the queue on another node (before every "does not exist", and in create).';
