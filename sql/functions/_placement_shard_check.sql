/*
 * The ProcessUtility hook (src/placement.c) calls this before Citus creates
 * a shard of queue.placement on this node: at the distribution itself it
 * may (the node does not know the table as distributed yet, or Citus has
 * placed the shard here), but a shard created later is a move, a copy or a
 * split, which would route calls of queues to a node without their tables.
 */
CREATE FUNCTION queue._placement_shard_check(shardid bigint)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	placed_here boolean;
BEGIN
	IF NOT queue._routed() THEN
		RETURN;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_placement p
							 WHERE p.shardid = $1
							   AND p.groupid = (SELECT groupid FROM pg_catalog.pg_dist_local_group))'
	   INTO placed_here USING shardid;
	IF NOT placed_here THEN
		RAISE EXCEPTION 'shard % of queue.placement cannot be moved, copied or split', shardid
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'It places queues on their node: their tables and messages stay where they are, and Citus would send their calls to a node without them.',
				  HINT = 'Leave the colocation group of queue.placement out of rebalancing: rebalance other tables by name, with rebalance_table_shards(''table''). To give a node less work, create queues whose names place them elsewhere and drain the old ones.';
	END IF;
END
$$;

COMMENT ON FUNCTION queue._placement_shard_check(bigint) IS
'Internal: refuse a shard of queue.placement that Citus creates after the distribution (a move, copy or split); called by the ProcessUtility hook; not executable by PUBLIC.';

REVOKE EXECUTE ON FUNCTION queue._placement_shard_check(bigint) FROM PUBLIC;
