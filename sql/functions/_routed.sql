/* Whether queue.citus_distribute placed queues on the nodes: queue.placement
 * exists and Citus knows it as a distributed table (on every node, once
 * Citus synced its metadata). */
CREATE FUNCTION queue._routed()
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	known boolean;
BEGIN
	IF pg_catalog.to_regclass('queue.placement') IS NULL
	   OR pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
							 WHERE p.logicalrelid = ''queue.placement''::pg_catalog.regclass)'
	   INTO known;
	RETURN known;
END
$$;

COMMENT ON FUNCTION queue._routed() IS
'Internal: whether queue.citus_distribute placed queues on the nodes of a Citus cluster.';
