/*
 * Place queues on the nodes of a Citus cluster, by queue name: make
 * queue.placement, a table distributed by queue_name (colocated with
 * colocate_with, a table the application distributes by a text key, when
 * given), and distribute every function that takes a queue_name by that
 * argument, colocated with it.  Run on the coordinator, again after each
 * ALTER EXTENSION queue UPDATE.  Returns how many functions route.
 */
CREATE FUNCTION queue.citus_distribute(colocate_with regclass DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f record;
	n integer := 0;
	coordinator boolean;
	same boolean;
BEGIN
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
		RAISE EXCEPTION 'extension citus is not installed in this database'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'On the coordinator: CREATE EXTENSION citus, add the worker nodes, CREATE EXTENSION queue, then call queue.citus_distribute().';
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO coordinator;
	IF NOT coordinator THEN
		RAISE EXCEPTION 'queue.citus_distribute() runs on the coordinator'
			USING ERRCODE = 'object_not_in_prerequisite_state';
	END IF;
	IF pg_catalog.to_regclass('queue.placement') IS NULL THEN
		IF EXISTS (SELECT 1 FROM queue.registry) THEN
			RAISE EXCEPTION 'the coordinator holds queues'
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = 'Once queues are placed by name, calls of a queue go to the node its name places it on, which would not have these.',
					  HINT = 'Drain and drop the coordinator''s queues first.';
		END IF;
		CREATE TABLE queue.placement (queue_name text PRIMARY KEY);
		COMMENT ON TABLE queue.placement IS
			'Places queues on the nodes of a Citus cluster: distributed by queue_name, holds no rows; a queue lives on the node of the shard its name hashes to (queue.citus_distribute).';
		/* DROP EXTENSION sees it, as it sees the queues' tables */
		PERFORM queue._depend_on_extension('queue.placement'::pg_catalog.regclass);
		IF colocate_with IS NULL THEN
			EXECUTE 'SELECT pg_catalog.create_distributed_table(''queue.placement'', ''queue_name'')';
		ELSE
			EXECUTE 'SELECT pg_catalog.create_distributed_table(''queue.placement'', ''queue_name'', colocate_with => $1)'
			  USING colocate_with::pg_catalog.text;
		END IF;
	ELSIF colocate_with IS NOT NULL THEN
		EXECUTE 'SELECT a.colocationid = b.colocationid
				   FROM pg_catalog.pg_dist_partition a, pg_catalog.pg_dist_partition b
				  WHERE a.logicalrelid = ''queue.placement''::pg_catalog.regclass
					AND b.logicalrelid = $1'
		   INTO same USING colocate_with;
		IF NOT coalesce(same, false) THEN
			RAISE EXCEPTION 'queues are already placed, not colocated with %', colocate_with
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Queues cannot move: drop them and queue.placement to place them anew.';
		END IF;
	END IF;
	FOR f IN
		SELECT p.oid::pg_catalog.regprocedure AS fn,
			   pg_catalog.array_position(p.proargnames[1:p.pronargs], 'queue_name') AS pos
		  FROM pg_catalog.pg_proc p
		  JOIN pg_catalog.pg_depend d
			ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
		   AND d.objid OPERATOR(pg_catalog.=) p.oid
		   AND d.deptype OPERATOR(pg_catalog.=) 'e'
		  JOIN pg_catalog.pg_extension e
			ON e.oid OPERATOR(pg_catalog.=) d.refobjid
		   AND e.extname OPERATOR(pg_catalog.=) 'queue'
		 WHERE p.proname OPERATOR(pg_catalog.!~) '^_'
		   AND p.prokind OPERATOR(pg_catalog.=) 'f'
		   AND p.proname OPERATOR(pg_catalog.<>) ALL (ARRAY['bind', 'unbind'])
		   AND pg_catalog.array_position(p.proargnames[1:p.pronargs], 'queue_name') IS NOT NULL
		 ORDER BY 1
	LOOP
		EXECUTE 'SELECT pg_catalog.create_distributed_function($1, $2,
					colocate_with := ''queue.placement'', force_delegation := true)'
		  USING f.fn, '$' || f.pos;
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue.citus_distribute(regclass) IS
'Place queues on the nodes of a Citus cluster by queue name (colocated with a table distributed by a text key, when given): make queue.placement and route every function that takes a queue name to its queue''s node. On the coordinator; again after ALTER EXTENSION queue UPDATE.';

REVOKE EXECUTE ON FUNCTION queue.citus_distribute(regclass) FROM PUBLIC;
