/*
 * queue 0.5.0 -> 0.6.0
 *
 * Queues on the nodes of a Citus cluster (README "Past one server",
 * DESIGN.md section 10): queue.citus_distribute places queues by name and
 * routes every function that takes a queue name; a queue called on a node
 * that does not hold it says which node does (queue._not_here, from the
 * functions that raise "does not exist" and from create); bind and
 * publish refuse to fan out across nodes; queue.cluster_queues,
 * queue.cluster_stats and queue.cluster_worker_status answer for every
 * node.  The guards against distributing the extension's tables and
 * moving the shards of queue.placement are in the library
 * (src/placement.c), with queue._placement_shard_check and
 * queue._run_here.
 *
 * The install script of 0.6.0 is sql/queue.sql, and test/t/009_upgrade.pl
 * checks that an updated database has the same objects as a fresh one.
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.6.0'" to load this file. \quit

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
			USING ERRCODE = '55000',
				  DETAIL = format('queue.placement places it on node %s.', node),
				  HINT = 'Call the queue functions on the coordinator, which sends each call to its queue''s node, or connect to that node.';
	END IF;
END
$$;
CREATE FUNCTION queue._one_node(what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF queue._routed() THEN
		RAISE EXCEPTION '% does not fan out across the nodes of a Citus cluster', what
			USING ERRCODE = '0A000',
				  DETAIL = 'Queues are placed on the nodes by queue.placement, and each node keeps its own bindings: a publish would reach only the queues of its own node.',
				  HINT = 'Send to each queue instead: in one transaction on the coordinator, each send goes to its queue''s node and Citus commits them together.';
	END IF;
END
$$;
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
			USING ERRCODE = '0A000',
				  DETAIL = 'It places queues on their node: their tables and messages stay where they are, and Citus would send their calls to a node without them.',
				  HINT = 'Leave the colocation group of queue.placement out of rebalancing: rebalance other tables by name, with rebalance_table_shards(''table''). To give a node less work, create queues whose names place them elsewhere and drain the old ones.';
	END IF;
END
$$;
CREATE FUNCTION queue._run_here()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_run_here';

-- create and the "does not exist" paths name the node that holds a queue
CREATE OR REPLACE FUNCTION queue._lock_queue(queue_name text)
RETURNS queue.registry
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r queue.registry;
BEGIN
	PERFORM queue._check_name(queue_name);
	SELECT * INTO r FROM queue.registry q
	 WHERE q.queue_name OPERATOR(pg_catalog.=) _lock_queue.queue_name
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM queue._not_here(queue_name);
		RAISE EXCEPTION 'queue "%" does not exist', queue_name
			USING ERRCODE = '42704';
	END IF;
	RETURN r;
END
$$;
CREATE OR REPLACE FUNCTION queue._check_dead_letter_queue(queue_name text, dead_letter_queue text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d text := dead_letter_queue;
	hops integer := 0;
BEGIN
	IF d IS NULL OR d OPERATOR(pg_catalog.=) '' THEN
		RETURN NULL;
	END IF;
	PERFORM queue._check_name(d, 'dead_letter_queue');
	IF d OPERATOR(pg_catalog.=) queue_name THEN
		RAISE EXCEPTION 'queue "%" cannot be its own dead-letter queue', queue_name
			USING ERRCODE = '22023';
	END IF;
	/* the queue's row is locked by now (create inserted it, alter locked it) */
	PERFORM 1 FROM queue.registry r WHERE r.queue_name OPERATOR(pg_catalog.=) d FOR KEY SHARE;
	IF NOT FOUND THEN
		PERFORM queue._not_here(d, 'dead-letter queue');
		RAISE EXCEPTION 'dead-letter queue "%" does not exist', d USING ERRCODE = '42704';
	END IF;
	LOOP
		SELECT r.dead_letter_queue INTO d FROM queue.registry r
		 WHERE r.queue_name OPERATOR(pg_catalog.=) d;
		EXIT WHEN d IS NULL;
		hops := hops OPERATOR(pg_catalog.+) 1;
		IF d OPERATOR(pg_catalog.=) queue_name OR hops OPERATOR(pg_catalog.>) 1000 THEN
			RAISE EXCEPTION 'the dead letters of queue "%" would come back to it through "%"',
				queue_name, dead_letter_queue USING ERRCODE = '22023';
		END IF;
	END LOOP;
	RETURN dead_letter_queue;
END
$$;
CREATE OR REPLACE FUNCTION queue._create_impl(
	queue_name			text,
	visibility_timeout	interval,
	max_deliveries		integer,
	retry_delay			interval,
	retry_delay_max		interval,
	dedup_window		interval,
	retention			interval,
	ordered				boolean,
	unlogged			boolean,
	if_not_exists		boolean,
	max_in_flight_per_group integer,
	dead_letter_queue	text,
	message_ttl			interval,
	drop_expired		boolean,
	creator				oid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	kind text;
BEGIN
	PERFORM queue._check_name(queue_name);
	/* on Citus, only the node queue.placement names holds the queue */
	PERFORM queue._not_here(queue_name);
	/* NULL options take their defaults */
	visibility_timeout := coalesce(visibility_timeout, interval '30 seconds');
	max_deliveries := coalesce(max_deliveries, 5);
	retry_delay := coalesce(retry_delay, interval '1 second');
	retry_delay_max := coalesce(retry_delay_max, interval '15 minutes');
	dedup_window := coalesce(dedup_window, interval '5 minutes');
	ordered := coalesce(ordered, false);
	unlogged := coalesce(unlogged, false);
	PERFORM queue._check_options(visibility_timeout, max_deliveries, retry_delay,
								 retry_delay_max, dedup_window, retention);
	/* ordered is max_in_flight_per_group 1; 0 is no limit */
	max_in_flight_per_group := queue._group_limit(CASE WHEN ordered THEN true END,
												  max_in_flight_per_group, NULL);
	ordered := max_in_flight_per_group IS NOT DISTINCT FROM 1;
	dead_letter_queue := queue._check_dead_letter_queue(queue_name, dead_letter_queue);
	message_ttl := queue._check_ttl(message_ttl);
	drop_expired := coalesce(drop_expired, false);
	/* a zero retention keeps nothing: the same as none */
	IF retention OPERATOR(pg_catalog.=) interval '0' THEN
		retention := NULL;
	END IF;

	/*
	 * The catalog row first: a concurrent create of the same name waits
	 * here for this one's transaction, then finds the queue there.
	 */
	INSERT INTO queue.registry (queue_name, visibility_timeout, max_deliveries,
		retry_delay, retry_delay_max, dedup_window, retention, ordered, unlogged,
		max_in_flight_per_group, dead_letter_queue, message_ttl, drop_expired)
	VALUES (queue_name, visibility_timeout, max_deliveries, retry_delay,
		retry_delay_max, dedup_window, retention, ordered, unlogged,
		max_in_flight_per_group, dead_letter_queue, message_ttl, drop_expired)
	ON CONFLICT ON CONSTRAINT registry_pkey DO NOTHING;
	IF NOT FOUND THEN
		IF coalesce(if_not_exists, false) THEN
			RAISE NOTICE 'queue "%" already exists, skipping', queue_name;
			RETURN;
		END IF;
		RAISE EXCEPTION 'queue "%" already exists', queue_name
			USING ERRCODE = '42710';
	END IF;

	kind := CASE WHEN unlogged THEN 'UNLOGGED ' ELSE '' END;

	/*
	 * Only id is indexed for priority 0, so that reads update visible_at
	 * and delivery_count as HOT updates; messages with another priority
	 * have a partial index of their own.
	 *
	 * Every index and sequence is named with a prefix of its own (qpk_,
	 * qseq_, qpri_, qgrp_, dlpk_, apk_, aack_, kpk_, kcre_, ppk_), none of
	 * them a table's prefix: PostgreSQL's default names (q_<name>_pkey)
	 * would collide with the tables of a queue called <name>_pkey.
	 */
	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			id				bigint GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME queue.%I)
							CONSTRAINT %I PRIMARY KEY,
			body			jsonb NOT NULL,
			headers			jsonb,
			delivery_count	integer NOT NULL DEFAULT 0,
			enqueued_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
			visible_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
			group_key		text,
			idempotency_key	text,
			priority		integer NOT NULL DEFAULT 0,
			leased			boolean NOT NULL DEFAULT false
		) WITH (fillfactor = 90)$ddl$, kind, 'q_' || queue_name, 'qseq_' || queue_name,
		'qpk_' || queue_name);
	EXECUTE format('CREATE INDEX %I ON queue.%I (priority DESC, id) WHERE priority <> 0',
				   'qpri_' || queue_name, 'q_' || queue_name);

	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			id				bigint CONSTRAINT %I PRIMARY KEY,
			body			jsonb NOT NULL,
			headers			jsonb,
			delivery_count	integer NOT NULL,
			enqueued_at		timestamptz NOT NULL,
			dead_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
			reason			text,
			group_key		text,
			idempotency_key	text,
			priority		integer NOT NULL DEFAULT 0
		)$ddl$, kind, 'dl_' || queue_name, 'dlpk_' || queue_name);

	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			id				bigint CONSTRAINT %I PRIMARY KEY,
			body			jsonb NOT NULL,
			headers			jsonb,
			delivery_count	integer NOT NULL,
			enqueued_at		timestamptz NOT NULL,
			acked_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
			group_key		text,
			idempotency_key	text,
			priority		integer NOT NULL DEFAULT 0
		)$ddl$, kind, 'a_' || queue_name, 'apk_' || queue_name);
	EXECUTE format('CREATE INDEX %I ON queue.%I (acked_at)',
				   'aack_' || queue_name, 'a_' || queue_name);

	/* ordered queues: a message waits for the earlier ones of its group */
	EXECUTE format('CREATE INDEX %I ON queue.%I (group_key, id) WHERE group_key IS NOT NULL',
				   'qgrp_' || queue_name, 'q_' || queue_name);

	/* idempotency keys, remembered for dedup_window from the first send */
	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			key				text CONSTRAINT %I PRIMARY KEY,
			id				bigint NOT NULL,
			created_at		timestamptz NOT NULL
		)$ddl$, kind, 'k_' || queue_name, 'kpk_' || queue_name);
	/* keys arrive in created_at order: a BRIN index costs a send next to
	 * nothing and lets the worker find the expired ones */
	EXECUTE format('CREATE INDEX %I ON queue.%I USING brin (created_at)',
				   'kcre_' || queue_name, 'k_' || queue_name);

	/* producer sequence numbers, for loss detection */
	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			producer		text NOT NULL,
			seq				bigint NOT NULL,
			id				bigint NOT NULL,
			seen_at			timestamptz NOT NULL,
			CONSTRAINT %I PRIMARY KEY (producer, seq)
		)$ddl$, kind, 'p_' || queue_name, 'ppk_' || queue_name);

	PERFORM queue._depend_on_extension(format('queue.%I', tab || queue_name)::regclass)
	   FROM unnest(ARRAY['q_', 'dl_', 'a_', 'k_', 'p_']) AS tab;
	PERFORM queue._reset_totals(format('queue.%I', 'q_' || queue_name)::regclass::oid);

	/* the creator manages the queue (the owner has every privilege) */
	IF creator OPERATOR(pg_catalog.<>) (SELECT e.extowner FROM pg_catalog.pg_extension e
										  WHERE e.extname OPERATOR(pg_catalog.=) 'queue') THEN
		PERFORM queue._grant_impl(queue_name, pg_catalog.pg_get_userbyid(creator),
								  'manage'::pg_catalog.text);
	END IF;
END
$$;
CREATE OR REPLACE FUNCTION queue._drop_impl(queue_name text, if_exists boolean)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	other text;
BEGIN
	PERFORM queue._check_name(queue_name);
	PERFORM 1 FROM queue.registry r
	  WHERE r.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name
	  FOR UPDATE;
	IF NOT FOUND THEN
		IF coalesce(if_exists, false) THEN
			RETURN false;
		END IF;
		PERFORM queue._not_here(queue_name);
		RAISE EXCEPTION 'queue "%" does not exist', queue_name
			USING ERRCODE = '42704';
	END IF;

	SELECT r.queue_name INTO other FROM queue.registry r
	 WHERE r.dead_letter_queue OPERATOR(pg_catalog.=) _drop_impl.queue_name
	 ORDER BY r.queue_name LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'queue "%" is the dead-letter queue of queue "%"', queue_name, other
			USING ERRCODE = '2BP01',
				  HINT = format('Drop queue "%s" first, or queue.alter(%L, dead_letter_queue => '''').',
								other, other);
	END IF;
	EXECUTE format('DROP TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I',
				   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
				   'k_' || queue_name, 'p_' || queue_name);
	DELETE FROM queue.bindings b
	 WHERE b.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name;
	DELETE FROM queue.grants g
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name;
	DELETE FROM queue.registry r
	 WHERE r.queue_name OPERATOR(pg_catalog.=) _drop_impl.queue_name;
	RETURN true;
END
$$;
CREATE OR REPLACE FUNCTION queue._stats(which text, exact boolean)
RETURNS TABLE (queue_name text, ready bigint, in_flight bigint, delayed bigint,
			   dead bigint, archived bigint, oldest_ready_age interval,
			   sent_total bigint, acked_total bigint, dead_total bigint,
			   as_of timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	qname text;
	relid oid;
	m record;
	c record;
	monitor boolean := NOT exact
		AND pg_catalog.pg_has_role('pg_read_all_stats'::pg_catalog.name, 'USAGE'::pg_catalog.text);
	may_count boolean;
BEGIN
	IF exact IS NULL THEN
		RAISE EXCEPTION 'exact must not be NULL' USING ERRCODE = '22004';
	END IF;
	/*
	 * One queue needs consume on it; all queues are those the caller may
	 * consume from.  Without exact, a role with the privileges of
	 * pg_read_all_stats sees every queue's counts (not its messages).
	 */
	IF which IS NOT NULL AND NOT monitor THEN
		PERFORM queue._check_access(which, 'consume'::pg_catalog.text);
	ELSIF which IS NOT NULL THEN
		PERFORM queue._check_name(which);
		IF NOT EXISTS (SELECT 1 FROM queue.queues r
						WHERE r.queue_name OPERATOR(pg_catalog.=) which) THEN
			PERFORM queue._not_here(which);
			RAISE EXCEPTION 'queue "%" does not exist', which USING ERRCODE = '42704';
		END IF;
	END IF;
	FOR qname IN
		SELECT r.queue_name FROM queue.queues r
		 WHERE (which IS NULL
				AND (monitor OR queue.has_queue_privilege(r.queue_name, 'consume'::pg_catalog.text)))
			OR r.queue_name OPERATOR(pg_catalog.=) which
		 ORDER BY r.queue_name
	LOOP
		relid := pg_catalog.to_regclass(format('queue.%I', 'q_' || qname))::oid;
		BEGIN
			IF relid IS NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'undefined_table';
			END IF;
			SELECT * INTO m FROM queue._measured(relid);
			queue_name := qname;
			sent_total := m.sent_total;
			acked_total := m.acked_total;
			dead_total := m.dead_total;
			may_count := exact OR queue.has_queue_privilege(qname, 'consume'::pg_catalog.text);
			IF m.as_of IS NULL AND NOT may_count THEN
				/* not measured yet, and not the caller's to count */
				ready := NULL; in_flight := NULL; delayed := NULL; dead := NULL;
				archived := NULL; oldest_ready_age := NULL; as_of := NULL;
			ELSIF exact OR m.as_of IS NULL THEN
				SELECT * INTO c FROM queue._count(qname);
				ready := c.ready; in_flight := c.in_flight; delayed := c.delayed;
				dead := c.dead; archived := c.archived;
				oldest_ready_age := c.as_of - c.oldest_ready;
				as_of := c.as_of;
			ELSE
				ready := m.ready; in_flight := m.in_flight; delayed := m.delayed;
				dead := m.dead; archived := m.archived;
				oldest_ready_age := m.oldest_ready_age;
				as_of := m.as_of;
			END IF;
			RETURN NEXT;
		EXCEPTION WHEN undefined_table OR undefined_object THEN
			/* dropped since the loop began */
			IF which IS NOT NULL THEN
				PERFORM queue._not_here(which);
				RAISE EXCEPTION 'queue "%" does not exist', which USING ERRCODE = '42704';
			END IF;
		END;
	END LOOP;
END
$$;

-- bind and publish refuse to fan out across the nodes of a Citus cluster
CREATE OR REPLACE FUNCTION queue._bind_impl(topic text, queue_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(topic, 'topic name'::pg_catalog.text);
	PERFORM queue._one_node('bind');
	PERFORM queue._lock_queue(queue_name);
	INSERT INTO queue.bindings (topic, queue_name)
	VALUES (_bind_impl.topic, _bind_impl.queue_name)
	ON CONFLICT DO NOTHING;
END
$$;
CREATE OR REPLACE FUNCTION queue.publish(topic text, body jsonb, headers jsonb DEFAULT NULL,
							  delay interval DEFAULT NULL,
							  idempotency_key text DEFAULT NULL,
							  group_key text DEFAULT NULL,
							  ttl interval DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text;
	n integer := 0;
BEGIN
	PERFORM queue._check_name(topic, 'topic name'::pg_catalog.text);
	PERFORM queue._one_node('publish');
	FOREACH q IN ARRAY queue._bound_queues(topic)
	LOOP
		PERFORM queue.send(q, body, headers, delay, idempotency_key, group_key, ttl => ttl);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;

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
			USING ERRCODE = '55000',
				  HINT = 'On the coordinator: CREATE EXTENSION citus, add the worker nodes, CREATE EXTENSION queue, then call queue.citus_distribute().';
	END IF;
	EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO coordinator;
	IF NOT coordinator THEN
		RAISE EXCEPTION 'queue.citus_distribute() runs on the coordinator'
			USING ERRCODE = '55000';
	END IF;
	IF pg_catalog.to_regclass('queue.placement') IS NULL THEN
		IF EXISTS (SELECT 1 FROM queue.registry) THEN
			RAISE EXCEPTION 'the coordinator holds queues'
				USING ERRCODE = '55000',
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
				USING ERRCODE = '55000',
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
CREATE FUNCTION queue._on_all_nodes(command text)
RETURNS TABLE (node_name text, node_port integer, result json)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	command := pg_catalog.format('SELECT coalesce(pg_catalog.json_agg(x), ''[]'') FROM (%s) x',
								 command);
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_node') IS NULL THEN
		node_name := pg_catalog.current_setting('listen_addresses');
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
				USING ERRCODE = '08000', DETAIL = r.result;
		END IF;
		node_name := r.nodename;
		node_port := r.nodeport;
		result := r.result::json;
		RETURN NEXT;
	END LOOP;
END
$$;
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
	  FROM queue._on_all_nodes('SELECT * FROM queue.queues') n,
		   pg_catalog.json_populate_recordset(NULL::queue.queues, n.result) q
	 ORDER BY q.queue_name, n.node_name, n.node_port
$$;
CREATE FUNCTION queue.cluster_stats(exact boolean DEFAULT false)
RETURNS TABLE (node_name text, node_port integer, queue_name text,
			   ready bigint, in_flight bigint, delayed bigint, dead bigint,
			   archived bigint, oldest_ready_age interval, sent_total bigint,
			   acked_total bigint, dead_total bigint, as_of timestamptz)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.node_name, n.node_port, s.*
	  FROM queue._on_all_nodes(pg_catalog.format(
			'SELECT * FROM queue._stats(NULL, %L)', coalesce(exact, false))) n,
		   pg_catalog.json_to_recordset(n.result)
			 AS s(queue_name text, ready bigint, in_flight bigint, delayed bigint,
				  dead bigint, archived bigint, oldest_ready_age interval,
				  sent_total bigint, acked_total bigint, dead_total bigint,
				  as_of timestamptz)
	 ORDER BY s.queue_name, n.node_name, n.node_port
$$;
CREATE FUNCTION queue.cluster_worker_status()
RETURNS TABLE (node_name text, node_port integer, database name, pid integer,
			   last_run timestamptz, runs bigint, dead_lettered bigint,
			   purged bigint, forgotten bigint, failures_counted bigint,
			   failures_dropped bigint, last_error text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT n.node_name, n.node_port, w.*
	  FROM queue._on_all_nodes('SELECT * FROM queue.worker_status') n,
		   pg_catalog.json_populate_recordset(NULL::queue.worker_status, n.result) w
	 ORDER BY n.node_name, n.node_port, w.database
$$;

REVOKE EXECUTE ON FUNCTION
	queue._placement_shard_check(bigint),
	queue.citus_distribute(regclass)
FROM PUBLIC;

-- The API
COMMENT ON FUNCTION queue."create"(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, integer, text, interval, boolean) IS
'Create a queue and its tables (q_, dl_, a_, k_, p_<name>); the creator gets manage on it. Needs CREATE on schema queue.';
COMMENT ON FUNCTION queue."alter"(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean) IS
'Change the options of a queue; NULL keeps an option as it is. Needs manage.';
COMMENT ON FUNCTION queue."drop"(text, boolean) IS
'Drop a queue with its messages, dead letters and archive; false if it did not exist and if_exists. Needs manage.';
COMMENT ON FUNCTION queue.purge(text) IS
'Delete every message of a queue (not its dead letters); returns how many. Needs manage.';
COMMENT ON FUNCTION queue.pause(text) IS
'Pause a queue: sends are accepted, reads and pops return nothing and long polls sleep until resume; the worker still redelivers and dead-letters. Returns whether it was running. Needs manage.';
COMMENT ON FUNCTION queue.resume(text) IS
'Resume a paused queue and wake its long polls at commit. Returns whether it was paused. Needs manage.';
COMMENT ON FUNCTION queue.send(text, jsonb, jsonb, interval, text, text, integer, text, bigint, interval) IS
'Send one message in the caller''s transaction; returns its id (the first id again for a repeated idempotency key or producer sequence). Needs send.';
COMMENT ON FUNCTION queue.send_batch(text, jsonb[], jsonb[], interval, text[], text[], integer, interval) IS
'Send several messages in one call; returns their ids in input order. Needs send.';
COMMENT ON FUNCTION queue.read(text, integer, interval, interval) IS
'Hand out up to quantity visible messages, hidden for the visibility timeout; with wait, sleep until a send commits (long poll). Skips locked rows. Needs consume.';
COMMENT ON FUNCTION queue.pop(text, integer) IS
'Read and delete up to quantity messages in one step (at-most-once). Needs consume.';
COMMENT ON FUNCTION queue.ack(text, bigint, integer) IS
'Delete (or archive) a message handed out; with a receipt (its delivery_count), false if it was handed to someone else since. Needs consume.';
COMMENT ON FUNCTION queue.ack(text, bigint[]) IS
'Ack several messages; returns how many were acked. Needs consume.';
COMMENT ON FUNCTION queue.nack(text, bigint, interval, text, integer) IS
'Give a message back: visible again after delay (default: the queue''s backoff), or to the dead letters with reason at max_deliveries. Needs consume.';
COMMENT ON FUNCTION queue.extend(text, bigint, interval, integer) IS
'Keep a message hidden for visibility_timeout more from now (a heartbeat for long work); returns the new visible_at. Needs consume.';
COMMENT ON FUNCTION queue.dead_letters(text, integer) IS
'List up to quantity dead letters of a queue, with why they died. Needs consume.';
COMMENT ON FUNCTION queue.redrive(text, integer, bigint[]) IS
'Move dead letters back into the queue (all, the first quantity, or the given ids) with delivery_count 0; returns how many. Needs manage.';
COMMENT ON FUNCTION queue.health(interval, interval) IS
'What is wrong, one row per finding, worst first: a worker missing, stalled or failing; what holds back the xmin horizon (transactions, prepared transactions, replication slots, standbys); per queue the caller may consume from, dead rows, the oldest ready message against max_ready_age, recent dead letters, a pause.';
COMMENT ON FUNCTION queue.stats(text, boolean) IS
'One row per queue: ready, in flight, delayed, dead, archived, oldest ready age, sent/acked/dead totals, and as_of: the counts are the worker''s last measurement unless exact is true. Without a queue name, every queue the caller may consume from. Needs consume, or the privileges of pg_read_all_stats (not with exact).';
COMMENT ON FUNCTION queue.bind(text, text) IS
'Bind a queue to a topic: queue.publish to the topic sends it a copy. Needs manage on the queue.';
COMMENT ON FUNCTION queue.unbind(text, text) IS
'Unbind a queue from a topic; false if it was not bound. Needs manage on the queue.';
COMMENT ON FUNCTION queue.publish(text, jsonb, jsonb, interval, text, text, interval) IS
'Send a copy of a message to every queue bound to the topic, in the caller''s transaction; returns how many queues got one. Needs send on each.';
COMMENT ON FUNCTION queue.producer_gaps(text) IS
'The producer sequence numbers never received between each producer''s lowest and highest, as inclusive ranges. Needs consume.';
COMMENT ON FUNCTION queue."grant"(text, name, text) IS
'Grant a role send, consume or manage on a queue. Needs manage.';
COMMENT ON FUNCTION queue."revoke"(text, name, text) IS
'Revoke send, consume or manage on a queue from a role (what its other privileges include stays). Needs manage.';
COMMENT ON FUNCTION queue.has_queue_privilege(regrole, text, text) IS
'Whether a role holds send, consume or manage on a queue (directly, through a role it has the privileges of, or as the owner or a superuser), as has_table_privilege answers for a table.';
COMMENT ON FUNCTION queue.citus_distribute(regclass) IS
'Place queues on the nodes of a Citus cluster by queue name (colocated with a table distributed by a text key, when given): make queue.placement and route every function that takes a queue name to its queue''s node. On the coordinator; again after ALTER EXTENSION queue UPDATE.';
COMMENT ON FUNCTION queue.cluster_queues() IS
'queue.queues of every node of the Citus cluster (of this server alone without Citus).';
COMMENT ON FUNCTION queue.cluster_stats(boolean) IS
'queue.stats() of every node of the Citus cluster (of this server alone without Citus).';
COMMENT ON FUNCTION queue.cluster_worker_status() IS
'queue.worker_status of every node of the Citus cluster (of this server alone without Citus).';
COMMENT ON FUNCTION queue.has_queue_privilege(text, text) IS
'Whether the current user holds send, consume or manage on a queue.';

-- Internal: called by the functions above and by the worker
COMMENT ON FUNCTION queue._check_name(text, text) IS
'Internal: raise 22023 unless the name matches ^[a-z_][a-z0-9_]{0,47}$.';
COMMENT ON FUNCTION queue._check_access(text, text) IS
'Internal: raise 42704 unless the queue exists, 42501 unless the caller holds the privilege (send, consume or manage) on it.';
COMMENT ON FUNCTION queue._invalidate(text) IS
'Internal: make every backend drop its cached options and plans of a queue at commit (alter).';
COMMENT ON FUNCTION queue._reset_totals(oid) IS
'Internal: start a new queue''s counters from zero (create).';
COMMENT ON FUNCTION queue._count_visible(oid, bigint) IS
'Internal: note messages made visible (redrive), to wake long polls at commit.';
COMMENT ON FUNCTION queue._has_sleepers(oid) IS
'Internal: whether readers may be asleep in a long poll on a message table (worker).';
COMMENT ON FUNCTION queue._wake(oid) IS
'Internal: wake every long poll of a message table (worker, when messages came due).';
COMMENT ON FUNCTION queue._depend_on_extension(regclass) IS
'Internal: make a queue table depend on the extension, so that DROP EXTENSION sees it.';
COMMENT ON FUNCTION queue._check_options(interval, integer, interval, interval, interval, interval) IS
'Internal: raise 22023 for a bad queue option (create, alter).';
COMMENT ON FUNCTION queue._lock_queue(text) IS
'Internal: raise 42704 unless the queue exists; lock and return its registry row.';
COMMENT ON FUNCTION queue._create_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, integer, text, interval, boolean, oid) IS
'Internal: the work of queue.create, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._alter_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean, integer, text, interval, boolean) IS
'Internal: the work of queue.alter, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._check_dead_letter_queue(text, text) IS
'Internal: the dead_letter_queue a queue may have (42704 missing, 22023 itself or a cycle); not executable by PUBLIC.';
COMMENT ON FUNCTION queue._forward_dead(text, text, bigint[], text) IS
'Internal: moves messages of a queue to its dead-letter queue as new messages with a dead_letter header; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._check_ttl(interval) IS
'Internal: a message_ttl as create and alter take it (0: none; 22023 negative or over 100 years).';
COMMENT ON FUNCTION queue._expire_at(oid, timestamptz) IS
'Internal: when the worker looks for expired messages of a queue next (NULL: after the next send); not executable by PUBLIC.';
COMMENT ON FUNCTION queue._note_expiry(oid, timestamptz) IS
'Internal: at commit, the worker looks for expired messages of a queue by then at the latest; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._dead_letter(text, text, bigint[], text) IS
'Internal: moves messages of a queue to its dead letters (or its dead-letter queue) with a reason; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._expiry_headers(oid) IS
'Internal: 0 when no message of the queue carries an expiry of its own (send''s ttl), so that reads and the worker need not look.';
COMMENT ON FUNCTION queue._expiry_headers_clear(oid, bigint) IS
'Internal: no message of the queue carries an expiry of its own, as of a scan; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._group_limit(boolean, integer, integer) IS
'Internal: the max_in_flight_per_group a queue gets from create''s or alter''s ordered and max_in_flight_per_group (22023 when they disagree).';
COMMENT ON FUNCTION queue._drop_impl(text, boolean) IS
'Internal: the work of queue.drop, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._purge_impl(text) IS
'Internal: the work of queue.purge, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._pause_impl(text) IS
'Internal: the work of queue.pause, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._resume_impl(text) IS
'Internal: the work of queue.resume, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._redrive_impl(text, integer, bigint[]) IS
'Internal: the work of queue.redrive, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON VIEW queue.metrics IS
'queue.stats() as one row per queue and metric (kind: counter or gauge), for monitoring systems.';
COMMENT ON FUNCTION queue._space(oid) IS
'Internal: the size of a queue''s message table and the share of it that is free space, measured on 64 pages. Needs consume.';
COMMENT ON FUNCTION queue._sleepers(oid) IS
'Internal: how many long polls wait on a queue (at most; exact unless another queue''s readers share its wait slot).';
COMMENT ON FUNCTION queue._stats(text, boolean) IS
'Internal: the rows of queue.stats for one queue, or (NULL) every queue the caller may see the counts of.';
COMMENT ON FUNCTION queue._count(text) IS
'Internal: one queue''s counts by state, exactly as the caller''s snapshot sees them (a scan), and when the split changes next.';
COMMENT ON FUNCTION queue._measured(oid) IS
'Internal: the worker''s last measurement of a queue (NULLs before the first) and its counters. Needs consume or the privileges of pg_read_all_stats.';
COMMENT ON FUNCTION queue._set_measured(oid, bigint, bigint, bigint, bigint, bigint, timestamptz, timestamptz, timestamptz) IS
'Internal: keep a measurement of the worker''s for queue.stats.';
COMMENT ON FUNCTION queue._preloaded() IS
'Internal: whether the library was loaded by shared_preload_libraries.';
COMMENT ON FUNCTION queue._worker_wake() IS
'Internal: ask the launcher to start this database''s worker once the transaction commits (CREATE EXTENSION).';
COMMENT ON FUNCTION queue._failed_deliveries(integer) IS
'Internal (worker): take the pending failed deliveries (reads rolled back, or cut off by a crash: at_least) of up to max messages of this database.';
COMMENT ON FUNCTION queue._requeue_failure(oid, bigint, integer, integer) IS
'Internal (worker): give failed deliveries (and a crash''s at_least) back for a later step, while the message is handed out or locked.';
COMMENT ON FUNCTION queue._sweep_at(oid, timestamptz) IS
'Internal (worker): make a queue''s dead-letter sweep due at a time, unless it is due earlier, at commit.';
COMMENT ON FUNCTION queue._full_pass_due() IS
'Internal (worker): whether this step visits every queue (always outside the background worker, once a minute in it).';
COMMENT ON FUNCTION queue._due_queues(oid[], boolean) IS
'Internal (worker): the queues this step visits, and for what (bits: 1 sweep, 2 housekeeping, 4 wake, 8 compact).';
COMMENT ON FUNCTION queue._rewind(oid, bigint, boolean) IS
'Internal: at commit, reads must look at a queue''s rows from id again (its read position moves back).';
COMMENT ON FUNCTION queue._count_dead(oid, bigint) IS
'Internal (worker): count messages dead-lettered, at commit.';
COMMENT ON FUNCTION queue._worker_status() IS
'Internal: what each database''s worker did (behind the view queue.worker_status).';
COMMENT ON FUNCTION queue._worker_step(integer) IS
'Internal: one step of the background worker (failed deliveries, dead letters, retention, keys and producers forgotten, compaction, wakeups), at most batch rows per queue and part.';
COMMENT ON FUNCTION queue._bind_impl(text, text) IS
'Internal: the work of queue.bind, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._unbind_impl(text, text) IS
'Internal: the work of queue.unbind, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._grant_tables(text, regrole, text) IS
'Internal: grant a role the reading that send, consume or manage on a queue includes (SELECT on some of its tables), and the anchor (SELECT on the queue''s id sequence).';
COMMENT ON FUNCTION queue._forget_unanchored() IS
'Internal: delete the rows of queue.grants whose grantee no longer holds the anchor (SELECT on the queue''s id sequence), as after DROP OWNED.';
COMMENT ON FUNCTION queue._on_drop_owned() IS
'Internal: event trigger function on DROP OWNED; forgets the queue privileges of the roles it took the anchor from.';
COMMENT ON FUNCTION queue._may_see(text) IS
'Internal: whether the caller holds any privilege on a queue (the filter of queue.queues); false for a queue that is gone.';
COMMENT ON FUNCTION queue._health(interval, interval) IS
'Internal: the findings of queue.health, unordered.';
COMMENT ON FUNCTION queue._bound_queues(text) IS
'Internal: the queues bound to a topic, read as the extension''s owner, once the caller holds send on each (for queue.publish).';
COMMENT ON FUNCTION queue._grantee(text, name, text) IS
'Internal: look up the role of grant and revoke (42704 if none, 22023 for an unknown privilege); NULL for the tables'' owner.';
COMMENT ON FUNCTION queue._grant_impl(text, name, text) IS
'Internal: the work of queue.grant, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._revoke_impl(text, name, text) IS
'Internal: the work of queue.revoke, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._guard_schema() IS
'Internal: event trigger function; refuses objects created in schema queue by anyone but the extension''s owner and superusers.';
COMMENT ON FUNCTION queue._routed() IS
'Internal: whether queue.citus_distribute placed queues on the nodes of a Citus cluster.';
COMMENT ON FUNCTION queue._not_here(text, text) IS
'Internal: raise 55000 naming the node when queue.placement places the queue on another node (before every "does not exist", and in create).';
COMMENT ON FUNCTION queue._one_node(text) IS
'Internal: raise 0A000 for bind and publish once queues are placed on the nodes of a Citus cluster.';
COMMENT ON FUNCTION queue._placement_shard_check(bigint) IS
'Internal: refuse a shard of queue.placement that Citus creates after the distribution (a move, copy or split); called by the ProcessUtility hook; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._run_here() IS
'Internal: always true; the planner hook adds it as a WHERE clause so that Citus does not route a call whose queue name is NULL.';
COMMENT ON FUNCTION queue._on_all_nodes(text) IS
'Internal: run a query on every node of the Citus cluster, one JSON array of its rows per node (cluster_queues, cluster_stats, cluster_worker_status).';
