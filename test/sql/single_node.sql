-- The functions of "Past one server" on a server without Citus: placing
-- queues is refused, the cluster-wide views answer for this server, and
-- nothing else changes (publish fans out, a missing queue is 42704).
SELECT queue.create('sn_a');
SELECT queue.create('sn_b');
SELECT queue.bind('sn_topic', 'sn_a');
SELECT queue.bind('sn_topic', 'sn_b');

-- no Citus: 55000, with the hint of the recipe
SELECT queue.citus_distribute();
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT to_regclass('queue.placement') IS NULL AS no_placement;

-- not placed: publish reaches every bound queue, bind works
SELECT queue.publish('sn_topic', '{"n": 1}');
SELECT queue.send('sn_b', '{"n": 2}') > 0 AS sent;

-- the cluster views: one node, this one
SELECT node_name, queue_name, max_deliveries
  FROM queue.cluster_queues() WHERE queue_name LIKE 'sn\_%' ORDER BY queue_name;
SELECT node_name, queue_name, ready
  FROM queue.cluster_stats(exact => true) WHERE queue_name LIKE 'sn\_%' ORDER BY queue_name;
SELECT count(DISTINCT node_port) = 1 AS one_node,
	   bool_and(node_port = current_setting('port')::integer) AS this_port
  FROM queue.cluster_stats();
SELECT count(*) = (SELECT count(*) FROM queue.worker_status) AS same_rows
  FROM queue.cluster_worker_status();
-- what they call runs one of the three views, never a query it is given
SELECT * FROM queue._on_all_nodes('SELECT 1');
SELECT * FROM queue.cluster_stats(NULL);

-- a missing queue is still "does not exist" (no placement to name a node)
SELECT queue.send('sn_missing', '{}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM queue.stats('sn_missing');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

SELECT queue.drop('sn_a');
SELECT queue.drop('sn_b');
