/* Raise 0A000 for what works on one node only (bind, publish) once queues
 * are placed on the nodes of a Citus cluster. */
CREATE FUNCTION queue._one_node(what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF queue._routed() THEN
		RAISE EXCEPTION '% does not fan out across the nodes of a Citus cluster', what
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Queues are placed on the nodes by queue.placement, and each node keeps its own bindings: a publish would reach only the queues of its own node.',
				  HINT = 'Send to each queue instead: in one transaction on the coordinator, each send goes to its queue''s node and Citus commits them together.';
	END IF;
END
$$;

COMMENT ON FUNCTION queue._one_node(text) IS
'Internal: raise 0A000 for bind and publish once queues are placed on the nodes of a Citus cluster.';
