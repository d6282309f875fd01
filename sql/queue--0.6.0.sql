/*
 * queue: transactional message queues for PostgreSQL.
 *
 * The source of the install script; the Makefile copies it into
 * sql/queue--<version>.sql.  Everything is schema-qualified and every
 * function pins its search_path.
 */

\echo Use "CREATE EXTENSION queue" to load this file. \quit

/*
 * CREATE EXTENSION makes schema queue unless it exists.  A schema someone
 * else made first, or one with anything in it, could hold objects planted
 * to be picked up by this script or by the functions' callers: refuse it.
 */
DO $$
DECLARE
	nsp oid := 'queue'::pg_catalog.regnamespace;
BEGIN
	IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n
		 WHERE n.oid OPERATOR(pg_catalog.=) nsp)
	   OPERATOR(pg_catalog.<>)
	   (SELECT r.oid FROM pg_catalog.pg_roles r
		 WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
		RAISE EXCEPTION 'schema "queue" belongs to another role'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Drop or rename the schema, then CREATE EXTENSION queue again.';
	END IF;
	/* nobody else may create objects in it, now or later */
	IF EXISTS (SELECT 1
				 FROM pg_catalog.pg_namespace n,
					  pg_catalog.aclexplode(n.nspacl) a
				WHERE n.oid OPERATOR(pg_catalog.=) nsp
				  AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
				  AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner) THEN
		RAISE EXCEPTION 'other roles may create objects in schema "queue"'
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'REVOKE CREATE ON SCHEMA queue from them, then CREATE EXTENSION queue again.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c
				WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
				   WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_type t
				   WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_operator o
				   WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_opfamily o
				   WHERE o.opfnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_opclass o
				   WHERE o.opcnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_collation o
				   WHERE o.collnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_conversion o
				   WHERE o.connamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_ts_config o
				   WHERE o.cfgnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_ts_dict o
				   WHERE o.dictnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_ts_parser o
				   WHERE o.prsnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_ts_template o
				   WHERE o.tmplnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT 1 FROM pg_catalog.pg_statistic_ext o
				   WHERE o.stxnamespace OPERATOR(pg_catalog.=) nsp) THEN
		RAISE EXCEPTION 'schema "queue" is not empty'
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'CREATE EXTENSION queue needs the schema to itself.';
	END IF;
END
$$;

/*
 * The catalog: one row per queue.  Each queue also has five tables of its
 * own, created by queue.create: queue.q_<name> (messages),
 * queue.dl_<name> (dead letters), queue.a_<name> (archive), queue.k_<name>
 * (idempotency keys) and queue.p_<name> (producer sequence numbers).  Those are
 * not members of the extension, so pg_dump dumps them with their rows;
 * this table's rows are dumped through pg_extension_config_dump.
 */
CREATE TABLE queue.registry (
	queue_name			text PRIMARY KEY
		CHECK (queue_name OPERATOR(pg_catalog.~) '^[a-z_][a-z0-9_]{0,47}$'),
	created_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	visibility_timeout	interval NOT NULL,
	max_deliveries		integer NOT NULL,
	retry_delay			interval NOT NULL,
	retry_delay_max		interval NOT NULL,
	dedup_window		interval NOT NULL,
	retention			interval,
	ordered				boolean NOT NULL,
	unlogged			boolean NOT NULL,
	/* queue.pause: reads and pops take nothing until queue.resume */
	paused				boolean NOT NULL DEFAULT false,
	/* at most this many messages of a group handed out at once (NULL: no
	 * limit; 1: ordered, which ordered mirrors) */
	max_in_flight_per_group integer
		CHECK (max_in_flight_per_group OPERATOR(pg_catalog.>) 0),
	/* dead letters go to this queue as new messages (NULL: to dl_<name>) */
	dead_letter_queue	text,
	/* a message not acked this long after it was sent expires: to the dead
	 * letters with reason 'expired', or dropped (drop_expired) */
	message_ttl			interval,
	drop_expired		boolean NOT NULL DEFAULT false
);
SELECT pg_catalog.pg_extension_config_dump('queue.registry', '');

/* Fan-out: each queue bound to a topic gets a copy of what is published. */
CREATE TABLE queue.bindings (
	topic		text NOT NULL
		CHECK (topic OPERATOR(pg_catalog.~) '^[a-z_][a-z0-9_]{0,47}$'),
	queue_name	text NOT NULL REFERENCES queue.registry (queue_name),
	PRIMARY KEY (topic, queue_name)
);
CREATE INDEX ON queue.bindings (queue_name);
SELECT pg_catalog.pg_extension_config_dump('queue.bindings', '');

/*
 * Per-queue privileges granted with queue.grant: what is enforced
 * (src/acl.c).  A row counts while its grantee holds SELECT on the queue's
 * id sequence (the anchor, which makes DROP ROLE refuse the role and DROP
 * OWNED end its privileges); regrole, so renames follow.
 */
CREATE TABLE queue.grants (
	queue_name	text NOT NULL REFERENCES queue.registry (queue_name),
	grantee		regrole NOT NULL,
	privilege	text NOT NULL
		CHECK (privilege OPERATOR(pg_catalog.=) ANY (ARRAY['send', 'consume', 'manage'])),
	PRIMARY KEY (queue_name, grantee, privilege)
);
SELECT pg_catalog.pg_extension_config_dump('queue.grants', '');

/* What read and pop return. */
CREATE TYPE queue.message AS (
	id				bigint,
	body			jsonb,
	headers			jsonb,
	delivery_count	integer,
	enqueued_at		timestamptz,
	visible_at		timestamptz,
	group_key		text,
	idempotency_key	text,
	priority		integer
);

/*
 * Whether a role (the current user in the second form) holds a privilege
 * ('send', 'consume' or 'manage') on a queue, as has_table_privilege
 * answers for a table (src/acl.c).
 */
CREATE FUNCTION queue.has_queue_privilege(role regrole, queue_name text, privilege text)
RETURNS boolean
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_has_privilege_role';

CREATE FUNCTION queue.has_queue_privilege(queue_name text, privilege text)
RETURNS boolean
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_has_privilege_current';

/* Whether the caller holds any privilege on a queue; false for a queue
 * dropped meanwhile. */
CREATE FUNCTION queue._may_see(queue_name text)
RETURNS boolean
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_may_see';

/* The queues the caller holds a privilege on (every queue for the owner). */
CREATE VIEW queue.queues AS
	SELECT queue_name, created_at, visibility_timeout, max_deliveries,
		   retry_delay, retry_delay_max, dedup_window, retention, ordered,
		   unlogged, paused, max_in_flight_per_group, dead_letter_queue,
		   message_ttl, drop_expired
	  FROM queue.registry r
	 WHERE queue._may_see(r.queue_name);

/* ---------------------------------------------------------------------
 * Internal helpers (C)
 * ---------------------------------------------------------------------
 */

/* Raise 22023 unless name matches ^[a-z_][a-z0-9_]{0,47}$. */
CREATE FUNCTION queue._check_name(name text, what text DEFAULT 'queue name')
RETURNS void
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_check_name_sql';

/* Raise 42704 unless the queue exists, 42501 unless the caller holds the
 * privilege ('send', 'consume' or 'manage') on it (src/acl.c). */
CREATE FUNCTION queue._check_access(queue_name text, privilege text)
RETURNS void
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_check_access_sql';

/* Make every backend drop its cached options and plans for a queue. */
CREATE FUNCTION queue._invalidate(queue_name text)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_invalidate_sql';

CREATE FUNCTION queue._reset_totals(relid oid)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_reset_totals_sql';

/* Long polling (src/wait.c): note messages made visible, to wake readers
 * at commit; whether readers sleep on a queue; wake them. */
CREATE FUNCTION queue._count_visible(relid oid, n bigint)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_count_visible_sql';

CREATE FUNCTION queue._has_sleepers(relid oid)
RETURNS boolean
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_has_sleepers_sql';

CREATE FUNCTION queue._wake(relid oid)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_wake_sql';

/* Make DROP EXTENSION see a queue's tables (src/catalog.c). */
CREATE FUNCTION queue._depend_on_extension(relid regclass)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_depend_on_extension_sql';

/* The longest span of an option, 100 years (QUEUE_MAX_SPAN_YEARS in
 * src/queue.h, which the backoff of nack is capped at too). */
CREATE FUNCTION queue._max_span()
RETURNS interval
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_max_span_sql';

/* Options are checked here by queue.create and queue.alter alike. */
CREATE FUNCTION queue._check_options(
	visibility_timeout interval, max_deliveries integer,
	retry_delay interval, retry_delay_max interval,
	dedup_window interval, retention interval)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF visibility_timeout OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'visibility_timeout must not be negative'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF max_deliveries OPERATOR(pg_catalog.<) 0 THEN
		RAISE EXCEPTION 'max_deliveries must not be negative (0 means never dead-letter)'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF retry_delay OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'retry_delay must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF retry_delay_max OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'retry_delay_max must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF dedup_window OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'dedup_window must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF retention OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'retention must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	/* the worker computes clock_timestamp() minus these: keep it in range */
	IF visibility_timeout OPERATOR(pg_catalog.>) queue._max_span()
	   OR retry_delay OPERATOR(pg_catalog.>) queue._max_span()
	   OR retry_delay_max OPERATOR(pg_catalog.>) queue._max_span()
	   OR dedup_window OPERATOR(pg_catalog.>) queue._max_span()
	   OR retention OPERATOR(pg_catalog.>) queue._max_span() THEN
		RAISE EXCEPTION 'queue options must not exceed % years',
			pg_catalog.date_part('year', queue._max_span())::integer
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('visibility_timeout, retry_delay, retry_delay_max, dedup_window and retention are at most %s years.',
											 pg_catalog.date_part('year', queue._max_span())::integer);
	END IF;
END
$$;

/* ---------------------------------------------------------------------
 * Queues on the nodes of a Citus cluster (README "Past one server",
 * DESIGN.md section 10).  Citus's own objects are reached through EXECUTE:
 * they exist only where Citus is installed.
 * ---------------------------------------------------------------------
 */

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

/* Always true, and volatile: the planner hook (src/placement.c) adds it as
 * a WHERE clause to keep Citus from routing a call whose queue name is
 * NULL (Citus 13.2 would crash hashing it); the call then runs here. */
CREATE FUNCTION queue._run_here()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_run_here';

/* Raise 42704 unless the queue exists; lock its catalog row. */
CREATE FUNCTION queue._lock_queue(queue_name text)
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
			USING ERRCODE = 'undefined_object';
	END IF;
	RETURN r;
END
$$;

/* ---------------------------------------------------------------------
 * Managing queues
 * ---------------------------------------------------------------------
 */

/* message_ttl as given to create or alter: NULL or 0 none, 22023 if
 * negative or more than 100 years. */
CREATE FUNCTION queue._check_ttl(message_ttl interval)
RETURNS interval
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF message_ttl OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'message_ttl must not be negative'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use 0 for no ttl.';
	END IF;
	IF message_ttl OPERATOR(pg_catalog.>) queue._max_span() THEN
		RAISE EXCEPTION 'queue options must not exceed % years',
			pg_catalog.date_part('year', queue._max_span())::integer
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF message_ttl OPERATOR(pg_catalog.=) interval '0' THEN
		RETURN NULL;
	END IF;
	RETURN message_ttl;
END
$$;

/* When the worker looks for expired messages of a queue next (src/counters.c):
 * set by the worker, or noted for commit. */
CREATE FUNCTION queue._expire_at(relid oid, at timestamptz)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_expire_at_sql';

CREATE FUNCTION queue._note_expiry(relid oid, at timestamptz)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_note_expiry_sql';

/* Whether messages of a queue may carry their own expiry (send's ttl), and
 * forgetting it once a scan found none (src/counters.c). */
CREATE FUNCTION queue._expiry_headers(relid oid)
RETURNS bigint
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_expiry_headers_sql';

CREATE FUNCTION queue._expiry_headers_clear(relid oid, seen bigint)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_expiry_headers_clear_sql';

/*
 * Dead letters of a queue, by id (the caller locked them): to its
 * dead-letter queue (queue._forward_dead), or to its own dl_ with the
 * reason.  Returns how many went.  Run as the owner by the worker.
 */
CREATE FUNCTION queue._dead_letter(queue_name text, dead_letter_queue text,
								   ids bigint[], reason text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	IF ids IS NULL THEN
		RETURN 0;
	END IF;
	IF dead_letter_queue IS NOT NULL THEN
		RETURN queue._forward_dead(queue_name, dead_letter_queue, ids, reason);
	END IF;
	EXECUTE format(
		'WITH dead AS ('
		'  DELETE FROM queue.%1$I m WHERE m.id OPERATOR(pg_catalog.=) ANY ($1)'
		'  RETURNING m.id, m.body, m.headers, m.delivery_count, m.enqueued_at,'
		'            m.group_key, m.idempotency_key, m.priority) '
		'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
		'                        reason, group_key, idempotency_key, priority) '
		'SELECT id, body, headers, delivery_count, enqueued_at, $2, group_key,'
		'       idempotency_key, priority FROM dead',
		'q_' || queue_name, 'dl_' || queue_name)
		USING ids, reason;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

/*
 * The group limit a queue gets from create's or alter's ordered and
 * max_in_flight_per_group (NULL: not given) and, for alter, its current
 * one: ordered => true is max_in_flight_per_group => 1, 0 is no limit
 * (NULL in the registry).
 */
CREATE FUNCTION queue._group_limit(ordered boolean, max_in_flight_per_group integer,
								   old integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lim integer := old;
BEGIN
	IF max_in_flight_per_group OPERATOR(pg_catalog.<) 0 THEN
		RAISE EXCEPTION 'max_in_flight_per_group must not be negative'
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Use 0 for no limit.';
	END IF;
	IF max_in_flight_per_group IS NOT NULL THEN
		lim := CASE WHEN max_in_flight_per_group OPERATOR(pg_catalog.>) 0 THEN max_in_flight_per_group END;
	END IF;
	IF ordered AND lim IS DISTINCT FROM 1 THEN
		IF max_in_flight_per_group IS NOT NULL THEN
			RAISE EXCEPTION 'an ordered queue has max_in_flight_per_group 1, not %',
				max_in_flight_per_group USING ERRCODE = 'invalid_parameter_value';
		END IF;
		lim := 1;
	ELSIF NOT ordered AND lim OPERATOR(pg_catalog.=) 1 THEN
		IF max_in_flight_per_group IS NOT NULL THEN
			RAISE EXCEPTION 'max_in_flight_per_group 1 is an ordered queue'
				USING ERRCODE = 'invalid_parameter_value', HINT = 'Leave ordered out, or use ordered => true.';
		END IF;
		/* alter(ordered => false) of an ordered queue: no limit left */
		lim := NULL;
	END IF;
	RETURN lim;
END
$$;

/*
 * The dead-letter queue a queue may send its dead letters to: NULL or ''
 * for none; 42704 for a missing queue, 22023 for the queue itself or a
 * chain that comes back to it.  The caller's send privilege on it is
 * checked in C (src/acl.c) before this runs as the owner.
 */
CREATE FUNCTION queue._check_dead_letter_queue(queue_name text, dead_letter_queue text)
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
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	/* the queue's row is locked by now (create inserted it, alter locked it) */
	PERFORM 1 FROM queue.registry r WHERE r.queue_name OPERATOR(pg_catalog.=) d FOR KEY SHARE;
	IF NOT FOUND THEN
		PERFORM queue._not_here(d, 'dead-letter queue');
		RAISE EXCEPTION 'dead-letter queue "%" does not exist', d USING ERRCODE = 'undefined_object';
	END IF;
	LOOP
		SELECT r.dead_letter_queue INTO d FROM queue.registry r
		 WHERE r.queue_name OPERATOR(pg_catalog.=) d;
		EXIT WHEN d IS NULL;
		hops := hops OPERATOR(pg_catalog.+) 1;
		IF d OPERATOR(pg_catalog.=) queue_name OR hops OPERATOR(pg_catalog.>) 1000 THEN
			RAISE EXCEPTION 'the dead letters of queue "%" would come back to it through "%"',
				queue_name, dead_letter_queue USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	RETURN dead_letter_queue;
END
$$;

/*
 * Dead letters of a queue with a dead_letter_queue: each message (of ids)
 * is deleted and sent to that queue as a new message, with its headers and
 * a "dead_letter" header saying where it came from, why, and after how
 * many deliveries; its group and priority go along.  Returns how many
 * went.  Run as the owner, by nack (src/ack.c) and the worker.
 */
CREATE FUNCTION queue._forward_dead(queue_name text, dead_letter_queue text,
									ids bigint[], reason text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d record;
	n bigint := 0;
BEGIN
	FOR d IN EXECUTE format(
		'DELETE FROM queue.%I WHERE id OPERATOR(pg_catalog.=) ANY ($1) '
		'RETURNING id, body, headers, delivery_count, enqueued_at, group_key, '
		'          idempotency_key, priority', 'q_' || queue_name) USING ids
	LOOP
		BEGIN
			PERFORM queue.send(dead_letter_queue, d.body,
				coalesce(d.headers, '{}'::jsonb)
				OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('dead_letter',
					pg_catalog.jsonb_build_object('queue', queue_name, 'id', d.id,
						'reason', reason, 'delivery_count', d.delivery_count,
						'enqueued_at', d.enqueued_at, 'dead_at', pg_catalog.clock_timestamp(),
						'idempotency_key', d.idempotency_key)),
				group_key => d.group_key, priority => d.priority);
		EXCEPTION WHEN invalid_parameter_value THEN
			/* refused for what it is (too big with the header): the queue's
			 * own dead letters keep it, saying why.  Anything else (a lock
			 * timeout of the worker's step) rolls the whole move back, to be
			 * tried again. */
			EXECUTE format(
				'INSERT INTO queue.%I (id, body, headers, delivery_count, enqueued_at, '
				'  reason, group_key, idempotency_key, priority) '
				'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', 'dl_' || queue_name)
				USING d.id, d.body, d.headers, d.delivery_count, d.enqueued_at,
					  format('%s (dead-letter queue "%s" refused it: %s)',
							 reason, dead_letter_queue, SQLERRM),
					  d.group_key, d.idempotency_key, d.priority;
		END;
		n := n OPERATOR(pg_catalog.+) 1;
	END LOOP;
	RETURN n;
END
$$;

/*
 * The managing functions are C (src/acl.c): each checks the caller's
 * privilege, then runs its queue._<name>_impl as the extension's owner,
 * who owns the queues' tables.  PUBLIC may not execute the _impl
 * functions: they trust their arguments.
 */
CREATE FUNCTION queue._create_impl(
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
			USING ERRCODE = 'duplicate_object';
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

CREATE FUNCTION queue."create"(
	queue_name			text,
	visibility_timeout	interval DEFAULT '30 seconds',
	max_deliveries		integer DEFAULT 5,
	retry_delay			interval DEFAULT '1 second',
	retry_delay_max		interval DEFAULT '15 minutes',
	dedup_window		interval DEFAULT '5 minutes',
	retention			interval DEFAULT NULL,
	ordered				boolean DEFAULT false,
	unlogged			boolean DEFAULT false,
	if_not_exists		boolean DEFAULT false,
	max_in_flight_per_group integer DEFAULT NULL,
	dead_letter_queue	text DEFAULT NULL,
	message_ttl			interval DEFAULT NULL,
	drop_expired		boolean DEFAULT false)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_create';

CREATE FUNCTION queue._alter_impl(
	queue_name			text,
	visibility_timeout	interval,
	max_deliveries		integer,
	retry_delay			interval,
	retry_delay_max		interval,
	dedup_window		interval,
	retention			interval,
	ordered				boolean,
	unlogged			boolean,
	max_in_flight_per_group integer,
	dead_letter_queue	text,
	message_ttl			interval,
	drop_expired		boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	old queue.registry;
	new queue.registry;
	tab text;
BEGIN
	old := queue._lock_queue(queue_name);
	new := old;
	new.visibility_timeout := coalesce(visibility_timeout, old.visibility_timeout);
	new.max_deliveries := coalesce(max_deliveries, old.max_deliveries);
	new.retry_delay := coalesce(retry_delay, old.retry_delay);
	new.retry_delay_max := coalesce(retry_delay_max, old.retry_delay_max);
	new.dedup_window := coalesce(dedup_window, old.dedup_window);
	new.retention := coalesce(retention, old.retention);
	new.max_in_flight_per_group := queue._group_limit(ordered, max_in_flight_per_group,
													  old.max_in_flight_per_group);
	new.ordered := new.max_in_flight_per_group IS NOT DISTINCT FROM 1;
	new.unlogged := coalesce(unlogged, old.unlogged);
	/* '' sends dead letters to the queue's own dead letters again */
	IF dead_letter_queue IS NOT NULL THEN
		new.dead_letter_queue := queue._check_dead_letter_queue(queue_name, dead_letter_queue);
	END IF;
	/* 0 takes the ttl away */
	IF message_ttl IS NOT NULL THEN
		new.message_ttl := queue._check_ttl(message_ttl);
	END IF;
	new.drop_expired := coalesce(drop_expired, old.drop_expired);
	PERFORM queue._check_options(new.visibility_timeout, new.max_deliveries,
								 new.retry_delay, new.retry_delay_max,
								 new.dedup_window, new.retention);
	/* a zero retention turns archiving off again */
	IF new.retention OPERATOR(pg_catalog.=) interval '0' THEN
		new.retention := NULL;
	END IF;

	/*
	 * Lock what changes, the message table first, as every function using
	 * a queue does (src/plan_cache.c, queue_lookup_for): no deadlock with
	 * senders that go on to the key and producer tables.
	 */
	IF new.unlogged IS DISTINCT FROM old.unlogged THEN
		EXECUTE format('LOCK TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I '
					   'IN ACCESS EXCLUSIVE MODE',
					   'q_' || queue_name, 'p_' || queue_name, 'k_' || queue_name,
					   'dl_' || queue_name, 'a_' || queue_name);
	ELSIF new.ordered IS DISTINCT FROM old.ordered THEN
		/* no message may arrive between the check below and the change */
		EXECUTE format('LOCK TABLE queue.%I IN SHARE ROW EXCLUSIVE MODE', 'q_' || queue_name);
	END IF;

	IF new.ordered IS DISTINCT FROM old.ordered THEN
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I)', 'q_' || queue_name)
			INTO STRICT tab;
		IF tab::boolean THEN
			RAISE EXCEPTION 'cannot change "ordered" of queue "%" while it holds messages', queue_name
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Drain or purge the queue first.';
		END IF;
	END IF;

	IF new.unlogged IS DISTINCT FROM old.unlogged THEN
		FOREACH tab IN ARRAY ARRAY['q_', 'dl_', 'a_', 'k_', 'p_'] LOOP
			EXECUTE format('ALTER TABLE queue.%I SET %s', tab || queue_name,
						   CASE WHEN new.unlogged THEN 'UNLOGGED' ELSE 'LOGGED' END);
		END LOOP;
	END IF;

	UPDATE queue.registry r
	   SET visibility_timeout = new.visibility_timeout,
		   max_deliveries = new.max_deliveries,
		   retry_delay = new.retry_delay,
		   retry_delay_max = new.retry_delay_max,
		   dedup_window = new.dedup_window,
		   retention = new.retention,
		   ordered = new.ordered,
		   unlogged = new.unlogged,
		   max_in_flight_per_group = new.max_in_flight_per_group,
		   dead_letter_queue = new.dead_letter_queue,
		   message_ttl = new.message_ttl,
		   drop_expired = new.drop_expired
	 WHERE r.queue_name OPERATOR(pg_catalog.=) _alter_impl.queue_name;

	PERFORM queue._invalidate(queue_name);
	/* other delivery rules: reads look at every live message again */
	PERFORM queue._rewind(format('queue.%I', 'q_' || queue_name)::regclass::oid, 0, false);
	/* a shorter message_ttl may have expired messages */
	IF new.message_ttl IS NOT NULL THEN
		PERFORM queue._note_expiry(format('queue.%I', 'q_' || queue_name)::regclass::oid,
								   '-infinity'::pg_catalog.timestamptz);
	END IF;
	/* a lower max_deliveries may have made poison of messages */
	PERFORM queue._sweep_at(format('queue.%I', 'q_' || queue_name)::regclass::oid,
							'-infinity'::pg_catalog.timestamptz);
END
$$;

CREATE FUNCTION queue."alter"(
	queue_name			text,
	visibility_timeout	interval DEFAULT NULL,
	max_deliveries		integer DEFAULT NULL,
	retry_delay			interval DEFAULT NULL,
	retry_delay_max		interval DEFAULT NULL,
	dedup_window		interval DEFAULT NULL,
	retention			interval DEFAULT NULL,
	ordered				boolean DEFAULT NULL,
	unlogged			boolean DEFAULT NULL,
	max_in_flight_per_group integer DEFAULT NULL,
	dead_letter_queue	text DEFAULT NULL,
	message_ttl			interval DEFAULT NULL,
	drop_expired		boolean DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_alter';

CREATE FUNCTION queue._drop_impl(queue_name text, if_exists boolean)
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
			USING ERRCODE = 'undefined_object';
	END IF;

	SELECT r.queue_name INTO other FROM queue.registry r
	 WHERE r.dead_letter_queue OPERATOR(pg_catalog.=) _drop_impl.queue_name
	 ORDER BY r.queue_name LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'queue "%" is the dead-letter queue of queue "%"', queue_name, other
			USING ERRCODE = 'dependent_objects_still_exist',
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

CREATE FUNCTION queue."drop"(queue_name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_drop';

CREATE FUNCTION queue._purge_impl(queue_name text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	EXECUTE format('DELETE FROM queue.%I', 'q_' || queue_name);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

CREATE FUNCTION queue.purge(queue_name text)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_purge';

/*
 * Pause and resume (during an incident or a deploy): while a queue is
 * paused, sends are accepted, reads and pops return nothing and long polls
 * keep sleeping; the worker still redelivers and dead-letters.  Each
 * returns whether it changed the queue's state.
 */
CREATE FUNCTION queue._pause_impl(queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r queue.registry;
BEGIN
	r := queue._lock_queue(queue_name);
	IF r.paused THEN
		RETURN false;
	END IF;
	UPDATE queue.registry g SET paused = true
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _pause_impl.queue_name;
	PERFORM queue._invalidate(queue_name);
	RETURN true;
END
$$;

CREATE FUNCTION queue.pause(queue_name text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_pause';

CREATE FUNCTION queue._resume_impl(queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r queue.registry;
BEGIN
	r := queue._lock_queue(queue_name);
	IF NOT r.paused THEN
		RETURN false;
	END IF;
	UPDATE queue.registry g SET paused = false
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _resume_impl.queue_name;
	PERFORM queue._invalidate(queue_name);
	/* every long poll of the queue looks again at commit */
	PERFORM queue._count_visible(format('queue.%I', 'q_' || queue_name)::regclass::oid,
								 pg_catalog.int8 '2147483647');
	RETURN true;
END
$$;

CREATE FUNCTION queue.resume(queue_name text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_resume';

/* ---------------------------------------------------------------------
 * Producing, consuming, settling (C, the hot path)
 *
 * These pin their search path in C (pg_catalog only, while their
 * statements are prepared and run: see src/spi_util.c) instead of with a
 * SET clause, which would cost a GUC save and restore on every call.
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION queue.send(
	queue_name		text,
	body			jsonb,
	headers			jsonb DEFAULT NULL,
	delay			interval DEFAULT NULL,
	idempotency_key	text DEFAULT NULL,
	group_key		text DEFAULT NULL,
	priority		integer DEFAULT 0,
	producer		text DEFAULT NULL,
	producer_seq	bigint DEFAULT NULL,
	ttl				interval DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_send';

CREATE FUNCTION queue.send_batch(
	queue_name			text,
	bodies				jsonb[],
	headers				jsonb[] DEFAULT NULL,
	delay				interval DEFAULT NULL,
	idempotency_keys	text[] DEFAULT NULL,
	group_keys			text[] DEFAULT NULL,
	priority			integer DEFAULT 0,
	ttl					interval DEFAULT NULL)
RETURNS SETOF bigint
LANGUAGE c VOLATILE ROWS 100
AS 'MODULE_PATHNAME', 'queue_send_batch';

CREATE FUNCTION queue.read(
	queue_name			text,
	quantity			integer DEFAULT 1,
	visibility_timeout	interval DEFAULT NULL,
	wait				interval DEFAULT NULL)
RETURNS SETOF queue.message
LANGUAGE c VOLATILE ROWS 10
AS 'MODULE_PATHNAME', 'queue_read';

CREATE FUNCTION queue.pop(queue_name text, quantity integer DEFAULT 1)
RETURNS SETOF queue.message
LANGUAGE c VOLATILE ROWS 10
AS 'MODULE_PATHNAME', 'queue_pop';

CREATE FUNCTION queue.ack(queue_name text, id bigint, receipt integer DEFAULT NULL)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_ack';

CREATE FUNCTION queue.ack(queue_name text, ids bigint[])
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_ack_array';

/*
 * nack and extend take an optional receipt beyond the contract: the
 * delivery_count the consumer was handed, as ack does, so that a consumer
 * whose visibility timeout ran out cannot nack or extend a later delivery.
 */
CREATE FUNCTION queue.nack(
	queue_name	text,
	id			bigint,
	delay		interval DEFAULT NULL,
	reason		text DEFAULT NULL,
	receipt		integer DEFAULT NULL)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_nack';

CREATE FUNCTION queue.extend(queue_name text, id bigint, visibility_timeout interval,
							 receipt integer DEFAULT NULL)
RETURNS timestamptz
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_extend';

/* ---------------------------------------------------------------------
 * Dead letters
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION queue.dead_letters(queue_name text, quantity integer DEFAULT 100)
RETURNS TABLE (id bigint, body jsonb, headers jsonb, delivery_count integer,
			   enqueued_at timestamptz, dead_at timestamptz, reason text,
			   group_key text, idempotency_key text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_access(queue_name, 'consume'::pg_catalog.text);
	IF quantity IS NULL OR quantity OPERATOR(pg_catalog.<) 1
	   OR quantity OPERATOR(pg_catalog.>) current_setting('queue.max_batch')::integer THEN
		RAISE EXCEPTION 'quantity must be between 1 and %, not %',
			current_setting('queue.max_batch'), coalesce(quantity::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The upper limit is the setting queue.max_batch.';
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT id, body, headers, delivery_count, enqueued_at, dead_at, reason, '
		'       group_key, idempotency_key '
		'  FROM queue.%I ORDER BY id LIMIT $1', 'dl_' || queue_name)
		USING quantity;
END
$$;

CREATE FUNCTION queue._redrive_impl(queue_name text, quantity integer,
									ids bigint[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
	lowest bigint;
	r queue.registry;
BEGIN
	r := queue._lock_queue(queue_name);
	IF quantity OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'quantity must be at least 1, not %', quantity
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format(
		'WITH moved AS ('
		'  DELETE FROM queue.%1$I d WHERE d.id IN ('
		'    SELECT id FROM queue.%1$I'
		'     WHERE ($2::bigint[] IS NULL OR id = ANY ($2))'
		'     ORDER BY id LIMIT $1 FOR UPDATE)'
		'  RETURNING d.id, d.body, d.headers, d.enqueued_at, d.group_key,'
		'            d.idempotency_key, d.priority) '
		', back AS ('
		'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
		'                        visible_at, group_key, idempotency_key, priority) '
		'SELECT id, body, headers, 0,'
		'       CASE WHEN $3::pg_catalog.interval IS NULL THEN enqueued_at ELSE now() END,'
		'       now(), group_key, idempotency_key, priority FROM moved'
		'  RETURNING id) '
		'SELECT count(*), min(id) FROM back',
		'dl_' || queue_name, 'q_' || queue_name)
		INTO n, lowest USING quantity, ids, r.message_ttl;
	/* with a message_ttl, a redriven message starts a new life (enqueued now) */
	IF r.message_ttl IS NOT NULL AND n OPERATOR(pg_catalog.>) 0 THEN
		PERFORM queue._note_expiry(format('queue.%I', 'q_' || queue_name)::regclass::oid,
								   now() OPERATOR(pg_catalog.+) r.message_ttl);
	END IF;
	PERFORM queue._count_visible(format('queue.%I', 'q_' || queue_name)::regclass::oid, n);
	/* the messages keep their ids, which reads may have passed long ago */
	IF lowest IS NOT NULL THEN
		PERFORM queue._rewind(format('queue.%I', 'q_' || queue_name)::regclass::oid,
							  lowest, true);
	END IF;
	RETURN n;
END
$$;

CREATE FUNCTION queue.redrive(queue_name text, quantity integer DEFAULT NULL,
							  ids bigint[] DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_redrive';

/* ---------------------------------------------------------------------
 * Observing
 * ---------------------------------------------------------------------
 */

/*
 * One queue's counts, exactly as the caller's snapshot sees them, split by
 * the clock now: a scan of its message, dead-letter and archive tables.
 * Also when the first message not visible now becomes visible (the split
 * changes then).  queue.stats(q, exact => true), and the worker's
 * measurements (src/measure.c).
 */
CREATE FUNCTION queue._count(queue_name text,
	OUT ready bigint, OUT in_flight bigint, OUT delayed bigint, OUT dead bigint,
	OUT archived bigint, OUT oldest_ready timestamptz, OUT next_change timestamptz,
	OUT as_of timestamptz)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	as_of := clock_timestamp();
	/* the message table is locked first (it comes first), as queue.alter does */
	EXECUTE format(
		'SELECT m.ready, m.in_flight, m.delayed, d.dead, a.archived, m.oldest_ready, '
		'       m.next_change '
		'  FROM (SELECT count(*) FILTER (WHERE visible_at <= $1) AS ready, '
		'               count(*) FILTER (WHERE visible_at > $1 AND leased) AS in_flight, '
		'               count(*) FILTER (WHERE visible_at > $1 AND NOT leased) AS delayed, '
		'               min(enqueued_at) FILTER (WHERE visible_at <= $1) AS oldest_ready, '
		'               min(visible_at) FILTER (WHERE visible_at > $1) AS next_change '
		'          FROM queue.%1$I) m, '
		'       (SELECT count(*) AS dead FROM queue.%2$I) d, '
		'       (SELECT count(*) AS archived FROM queue.%3$I) a',
		'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name)
		INTO ready, in_flight, delayed, dead, archived, oldest_ready, next_change
		USING as_of;
END
$$;

/* The worker's last measurement of a queue, and its counters (src/measure.c). */
CREATE FUNCTION queue._measured(relid oid,
	OUT ready bigint, OUT in_flight bigint, OUT delayed bigint, OUT dead bigint,
	OUT archived bigint, OUT oldest_ready_age interval, OUT as_of timestamptz,
	OUT sent_total bigint, OUT acked_total bigint, OUT dead_total bigint)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_measured_sql';

CREATE FUNCTION queue._set_measured(relid oid, ready bigint, in_flight bigint,
	delayed bigint, dead bigint, archived bigint, oldest_ready timestamptz,
	next_change timestamptz, began timestamptz)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_set_measured_sql';

CREATE FUNCTION queue._stats(which text, exact boolean)
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
		RAISE EXCEPTION 'exact must not be NULL' USING ERRCODE = 'null_value_not_allowed';
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
			RAISE EXCEPTION 'queue "%" does not exist', which USING ERRCODE = 'undefined_object';
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
				RAISE EXCEPTION 'queue "%" does not exist', which USING ERRCODE = 'undefined_object';
			END IF;
		END;
	END LOOP;
END
$$;

/* The public face of queue._stats (an argument may share its name with a
 * result column in SQL functions only). */
CREATE FUNCTION queue.stats(queue_name text DEFAULT NULL, exact boolean DEFAULT false)
RETURNS TABLE (queue_name text, ready bigint, in_flight bigint, delayed bigint,
			   dead bigint, archived bigint, oldest_ready_age interval,
			   sent_total bigint, acked_total bigint, dead_total bigint,
			   as_of timestamptz)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM queue._stats($1, $2) $$;

/*
 * queue.stats, one row per queue and metric, for a monitoring system:
 * counters are totals since the server started (a restart starts them
 * again from zero, as Prometheus expects of a counter), gauges are values
 * as of as_of.
 */
CREATE VIEW queue.metrics AS
	SELECT s.queue_name, v.metric, v.kind, v.value, s.as_of
	  FROM queue.stats() s,
		   LATERAL (VALUES
			('messages_ready', 'gauge', s.ready::float8),
			('messages_in_flight', 'gauge', s.in_flight::float8),
			('messages_delayed', 'gauge', s.delayed::float8),
			('dead_letters', 'gauge', s.dead::float8),
			('archived', 'gauge', s.archived::float8),
			('oldest_ready_age_seconds', 'gauge',
			 COALESCE(pg_catalog.date_part('epoch', s.oldest_ready_age), 0)::float8),
			('sent_total', 'counter', s.sent_total::float8),
			('acked_total', 'counter', s.acked_total::float8),
			('dead_total', 'counter', s.dead_total::float8)
		   ) AS v(metric, kind, value);

/* ---------------------------------------------------------------------
 * Health (issue 13)
 * ---------------------------------------------------------------------
 */

/* The size of a queue's message table and its share of free space, and
 * how many long polls wait on it, for queue.health (src/schedule.c,
 * src/wait.c). */
CREATE FUNCTION queue._space(relid oid, OUT heap_bytes bigint, OUT free_share float8)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_space_sql';

CREATE FUNCTION queue._sleepers(relid oid)
RETURNS integer
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_sleepers_sql';

/*
 * The findings of queue.health, in no order.  Plain PL/pgSQL as the
 * caller: a role sees other roles' transactions only with
 * pg_read_all_stats (or pg_monitor), as in pg_stat_activity, and the
 * queues it may consume from.
 */
CREATE FUNCTION queue._health(max_ready_age interval, max_xact_age interval)
RETURNS TABLE (severity text, queue_name text, finding text, detail text,
			   figure numeric, action text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w record;
	x record;
	q record;
	sp record;
	sleepers integer;
	have_worker boolean;
BEGIN
	IF max_ready_age IS NULL OR max_xact_age IS NULL THEN
		RAISE EXCEPTION 'max_ready_age and max_xact_age must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;

	/* the worker */
	IF NOT queue._preloaded() THEN
		RETURN QUERY SELECT 'critical', NULL::text, 'worker_missing',
			'queue is not in shared_preload_libraries: no background worker redelivers, dead-letters or purges',
			NULL::numeric, 'add queue to shared_preload_libraries and restart the server';
	ELSE
		SELECT * INTO w FROM queue.worker_status s
		 WHERE s.database OPERATOR(pg_catalog.=) current_database();
		have_worker := FOUND;
		IF NOT have_worker OR w.pid IS NULL THEN
			RETURN QUERY SELECT 'critical', NULL::text, 'worker_missing',
				'no background worker runs for this database',
				NULL::numeric, 'look for its errors in the server log; it is started again within a minute';
		ELSIF NOT pg_catalog.current_setting('queue.worker_enabled')::boolean THEN
			RETURN QUERY SELECT 'warning', NULL::text, 'worker_disabled',
				'queue.worker_enabled is off: nothing is dead-lettered after a timeout or purged after its retention',
				NULL::numeric, 'SET queue.worker_enabled = on in postgresql.conf and reload';
		ELSIF w.last_run OPERATOR(pg_catalog.<) (pg_catalog.clock_timestamp()
				 OPERATOR(pg_catalog.-) GREATEST(interval '1 minute',
					pg_catalog.current_setting('queue.worker_interval')::interval OPERATOR(pg_catalog.*) 10)) THEN
			RETURN QUERY SELECT 'critical', NULL::text, 'worker_stalled',
				format('the worker (pid %s) has not finished a step since %s', w.pid, w.last_run),
				pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) w.last_run)::numeric, 1),
				'look at what the worker waits for in pg_stat_activity and pg_locks';
		END IF;
		IF have_worker AND w.last_error IS NOT NULL AND w.last_error OPERATOR(pg_catalog.<>) '' THEN
			RETURN QUERY SELECT 'warning', NULL::text, 'worker_failed',
				format('the worker''s last step failed: %s', w.last_error),
				NULL::numeric, 'see the server log; the worker retries at its next step';
		END IF;
		IF have_worker AND w.failures_dropped OPERATOR(pg_catalog.>) 0 THEN
			RETURN QUERY SELECT 'warning', NULL::text, 'failures_dropped',
				'failed deliveries were dropped because the shared table of failures was full: those messages were delivered without being counted',
				w.failures_dropped::numeric, 'commit or roll back reads sooner, and check that the worker keeps up';
		END IF;
	END IF;

	/* what holds back the xmin horizon, so that vacuum cannot clean */
	FOR x IN
		SELECT a.pid, a.application_name, a.usename, a.state, a.xact_start
		  FROM pg_catalog.pg_stat_activity a
		 WHERE a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
		   AND (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
		   AND a.datname OPERATOR(pg_catalog.=) current_database()
		   AND a.xact_start OPERATOR(pg_catalog.<) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) max_xact_age)
		 ORDER BY a.xact_start
	LOOP
		RETURN QUERY SELECT 'warning', NULL::text, 'xmin_transaction',
			format('pid %s (user %s, application %L, %s) holds back the xmin horizon: its transaction began at %s',
				   x.pid, x.usename, x.application_name, x.state, x.xact_start),
			pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) x.xact_start)::numeric, 1),
			format('end that transaction (pg_terminate_backend(%s) if it is abandoned)', x.pid);
	END LOOP;
	FOR x IN
		SELECT p.gid, p.prepared, p.owner FROM pg_catalog.pg_prepared_xacts p
		 WHERE p.prepared OPERATOR(pg_catalog.<) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) max_xact_age)
		 ORDER BY p.prepared
	LOOP
		RETURN QUERY SELECT 'warning', NULL::text, 'xmin_prepared',
			format('prepared transaction %L (owner %s) holds back the xmin horizon since %s',
				   x.gid, x.owner, x.prepared),
			pg_catalog.round(extract(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) x.prepared)::numeric, 1),
			format('COMMIT PREPARED or ROLLBACK PREPARED %L', x.gid);
	END LOOP;
	FOR x IN
		SELECT s.slot_name, s.slot_type, pg_catalog.age(s.xmin) AS xid_age
		  FROM pg_catalog.pg_replication_slots s WHERE s.xmin IS NOT NULL
	LOOP
		RETURN QUERY SELECT 'warning', NULL::text, 'xmin_slot',
			format('replication slot %L (%s) holds back the xmin horizon by %s transactions',
				   x.slot_name, x.slot_type, x.xid_age),
			x.xid_age::numeric,
			format('make its consumer catch up, or pg_drop_replication_slot(%L)', x.slot_name);
	END LOOP;
	FOR x IN
		SELECT r.application_name, r.client_addr, pg_catalog.age(r.backend_xmin) AS xid_age
		  FROM pg_catalog.pg_stat_replication r WHERE r.backend_xmin IS NOT NULL
	LOOP
		RETURN QUERY SELECT 'warning', NULL::text, 'xmin_standby',
			format('standby %L (%s) holds back the xmin horizon by %s transactions through hot_standby_feedback',
				   x.application_name, coalesce(x.client_addr::text, 'local'), x.xid_age),
			x.xid_age::numeric,
			'end the long queries on the standby, or turn hot_standby_feedback off there';
	END LOOP;

	/* each queue the caller may consume from */
	FOR q IN
		SELECT r.queue_name AS name, r.paused, c.oid AS relid,
			   coalesce(s.n_dead_tup, 0) AS dead_tup, coalesce(s.n_live_tup, 0) AS live_tup
		  FROM queue.queues r
		  JOIN pg_catalog.pg_class c
			ON c.relname OPERATOR(pg_catalog.=) ('q_' OPERATOR(pg_catalog.||) r.queue_name)::name
		   AND c.relnamespace OPERATOR(pg_catalog.=) 'queue'::pg_catalog.regnamespace
		  LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid OPERATOR(pg_catalog.=) c.oid
		 WHERE queue.has_queue_privilege(r.queue_name, 'consume')
		 ORDER BY r.queue_name
	LOOP
		BEGIN
			IF q.paused THEN
				RETURN QUERY SELECT 'info', q.name, 'paused',
					'the queue is paused: reads and pops return nothing', NULL::numeric,
					format('queue.resume(%L) when the incident or deploy is over', q.name);
			END IF;
			IF q.dead_tup OPERATOR(pg_catalog.>) 10000
			   AND q.dead_tup OPERATOR(pg_catalog.>) q.live_tup THEN
				RETURN QUERY SELECT 'warning', q.name, 'dead_rows',
					format('%s dead rows against %s live ones in its message table', q.dead_tup, q.live_tup),
					q.dead_tup::numeric,
					'if it stays, something holds back the xmin horizon (see the xmin_ findings); vacuum and the worker''s compaction clean up once it is gone';
			END IF;
			/* a table that is mostly free space: the worker compacts it
			 * at 75% when at most queue.compact_max_live is left */
			SELECT * INTO sp FROM queue._space(q.relid);
			IF sp.heap_bytes OPERATOR(pg_catalog.>=) 8388608
			   AND sp.free_share OPERATOR(pg_catalog.>=) 0.5 THEN
				RETURN QUERY SELECT 'warning', q.name, 'bloat',
					format('its message table is %s, about %s%% of it free space',
						   pg_catalog.pg_size_pretty(sp.heap_bytes),
						   round((sp.free_share OPERATOR(pg_catalog.*) 100)::numeric)),
					round((sp.free_share OPERATOR(pg_catalog.*) 100)::numeric, 1),
					'the worker compacts it once three quarters are free and at most queue.compact_max_live is left to copy; before that, VACUUM FULL in a quiet moment gives the space back';
			END IF;
			sleepers := queue._sleepers(q.relid);
			IF sleepers OPERATOR(pg_catalog.>) 0 THEN
				RETURN QUERY SELECT 'info', q.name, 'long_polls',
					format('%s long polls wait for messages', sleepers),
					sleepers::numeric,
					'nothing: consumers are connected and idle'::text;
			END IF;
			RETURN QUERY EXECUTE format(
				'SELECT ''warning''::text, $1, ''ready_age''::text, '
				'       format(''the oldest ready message (id %%s) has waited %%s'', m.id, '
				'              date_trunc(''second'', clock_timestamp() - m.enqueued_at)), '
				'       round(extract(epoch FROM clock_timestamp() - m.enqueued_at)::numeric, 1), '
				'       ''add consumers, or see whether they run and ack''::text '
				'  FROM (SELECT id, enqueued_at FROM queue.%I '
				'         WHERE visible_at <= clock_timestamp() ORDER BY id LIMIT 1) m '
				' WHERE NOT $2 AND m.enqueued_at < clock_timestamp() - $3',
				'q_' || q.name) USING q.name, q.paused, max_ready_age;
			RETURN QUERY EXECUTE format(
				'SELECT ''warning''::text, $1, ''dead_letters''::text, '
				'       format(''%%s messages went to the dead letters in the last hour'', count(*)), '
				'       count(*)::numeric, '
				'       format(''look at queue.dead_letters(%%L), fix the cause, then queue.redrive(%%L)'', $1, $1) '
				'  FROM queue.%I WHERE dead_at > clock_timestamp() - interval ''1 hour'' '
				'HAVING count(*) > 0',
				'dl_' || q.name) USING q.name;
		EXCEPTION WHEN undefined_table THEN
			NULL;	-- dropped meanwhile
		END;
	END LOOP;
END
$$;

CREATE FUNCTION queue.health(max_ready_age interval DEFAULT '5 minutes',
							 max_xact_age interval DEFAULT '5 minutes')
RETURNS TABLE (severity text, queue_name text, finding text, detail text,
			   figure numeric, action text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM queue._health($1, $2) h
	 ORDER BY CASE h.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
			  h.queue_name NULLS FIRST, h.finding
$$;

/* ---------------------------------------------------------------------
 * The background worker (src/worker.c)
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION queue._preloaded()
RETURNS boolean
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_preloaded_sql';

CREATE FUNCTION queue._worker_wake()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_worker_wake_sql';

/*
 * at_least: for deliveries a crash interrupted, the delivery_count the read
 * wrote (src/journal.c); the worker raises the count to
 * greatest(count + failures, at_least + failures).
 */
CREATE FUNCTION queue._failed_deliveries(max integer)
RETURNS TABLE (relid oid, id bigint, failures integer, at_least integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_failed_deliveries_sql';

CREATE FUNCTION queue._requeue_failure(relid oid, id bigint, failures integer,
									   at_least integer DEFAULT 0)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_requeue_failure_sql';

CREATE FUNCTION queue._sweep_at(relid oid, due timestamptz)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_sweep_at_sql';

/* which queues a worker step visits (src/schedule.c) */
CREATE FUNCTION queue._full_pass_due()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_full_pass_due_sql';

CREATE FUNCTION queue._due_queues(counted oid[], every boolean)
RETURNS TABLE (relid oid, queue_name text, due integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_due_queues_sql';

/* reads must look from id again once this transaction commits (position.c) */
CREATE FUNCTION queue._rewind(relid oid, id bigint, with_head boolean)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_rewind_sql';

CREATE FUNCTION queue._count_dead(relid oid, n bigint)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_count_dead_sql';

CREATE FUNCTION queue._worker_status()
RETURNS TABLE (dbid oid, pid integer, last_run timestamptz, runs bigint,
			   dead_lettered bigint, purged bigint, forgotten bigint,
			   failures_counted bigint, failures_dropped bigint, last_error text)
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_worker_status_sql';

/*
 * One worker step, in the worker's transaction (or a test's): each part
 * handles at most batch rows per queue, and a queue dropped or altered
 * under it is skipped until the next step.
 *
 * 1. Deliveries whose reading transaction rolled back are counted.
 * 2. Messages delivered max_deliveries times that are visible again (their
 *    last delivery timed out, or its transaction rolled back) move to the
 *    dead letters.  Rows a consumer holds are skipped (SKIP LOCKED): a
 *    consumer acking and the worker dead-lettering the same message
 *    cannot both win.  A queue's table is scanned for them only when a
 *    last-chance delivery has come due (queue._due_queues) or step 1 made
 *    a message reach max_deliveries.
 * 3. Archived messages past the queue's retention are deleted; with no
 *    retention (turned off), the whole archive goes.
 * 4. Idempotency keys past dedup_window are forgotten, and so are the
 *    sequence numbers of producers silent for that long.
 * 5. Readers sleeping in queue.read(wait => ...) on a queue where messages
 *    have become visible (a delay or a visibility timeout ran out) are
 *    woken.
 */
CREATE FUNCTION queue._worker_step(batch integer,
	OUT dead_lettered bigint, OUT purged bigint, OUT forgotten bigint,
	OUT failures_counted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	dq record;
	m record;
	ids bigint[];
	hdr bigint;
	own_due timestamptz;
	n bigint;
	relid oid;
	due boolean;
	counted oid[] := '{}';
	new_count integer;
	added integer;
	lowest bigint;
	next_due timestamptz;
BEGIN
	dead_lettered := 0;
	purged := 0;
	forgotten := 0;
	failures_counted := 0;

	FOR r IN
		SELECT f.relid, f.id, f.failures, f.at_least, q.queue_name, q.max_deliveries
		  FROM queue._failed_deliveries(batch) f
		  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) f.relid
		  JOIN queue.registry q
		    ON c.relname OPERATOR(pg_catalog.=) ('q_' OPERATOR(pg_catalog.||) q.queue_name)::pg_catalog.name
		   AND c.relnamespace OPERATOR(pg_catalog.=) 'queue'::pg_catalog.regnamespace
	LOOP
		BEGIN
			/*
			 * Not while the message is handed out to another consumer (its
			 * receipt must stay valid) or locked by one (no waiting): then
			 * the failure is counted in a later step.
			 */
			EXECUTE format(
				'UPDATE queue.%1$I m'
				'   SET delivery_count = GREATEST(m.delivery_count + $2, $3 + $2) '
				'  FROM (SELECT id, delivery_count FROM queue.%1$I WHERE id = $1'
				'          AND NOT (leased AND visible_at > clock_timestamp())'
				'        FOR UPDATE SKIP LOCKED) old'
				' WHERE m.id = old.id '
				'RETURNING m.delivery_count, m.delivery_count - old.delivery_count',
				'q_' || r.queue_name)
				INTO new_count, added USING r.id, r.failures, r.at_least;
			GET DIAGNOSTICS n = ROW_COUNT;
			IF n OPERATOR(pg_catalog.>) 0 THEN
				failures_counted := failures_counted + added;
			END IF;
			/* it has now had its last delivery: sweep its queue */
			IF n OPERATOR(pg_catalog.>) 0 AND r.max_deliveries OPERATOR(pg_catalog.>) 0
			   AND new_count OPERATOR(pg_catalog.>=) r.max_deliveries THEN
				counted := counted OPERATOR(pg_catalog.||) r.relid;
			END IF;
			IF n OPERATOR(pg_catalog.=) 0 THEN
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I WHERE id = $1)',
							   'q_' || r.queue_name)
					INTO due USING r.id;
				IF due THEN
					PERFORM queue._requeue_failure(r.relid, r.id, r.failures, r.at_least);
				END IF;
			END IF;
		EXCEPTION WHEN undefined_table THEN
			NULL;
		END;
	END LOOP;

	/*
	 * The queues that need something (src/schedule.c): all of them once a
	 * minute and outside the background worker, otherwise those whose
	 * sweep is due, whose housekeeping tables may hold rows, or on which
	 * readers sleep.
	 */
	FOR dq IN
		SELECT * FROM queue._due_queues(counted, queue._full_pass_due()) AS due_queue
		 ORDER BY due_queue.queue_name
	LOOP
		BEGIN
			/*
			 * The options as they are now, with a new snapshot: the queue
			 * may have been dropped, or dropped and made again with other
			 * options and tables, since the step began.
			 */
			SELECT * INTO r FROM queue.registry q
			 WHERE q.queue_name OPERATOR(pg_catalog.=) dq.queue_name;
			CONTINUE WHEN NOT FOUND
				OR pg_catalog.to_regclass(format('queue.%I', 'q_' || dq.queue_name))::oid
				   IS DISTINCT FROM dq.relid;
			relid := dq.relid;
			IF r.max_deliveries OPERATOR(pg_catalog.>) 0
			   AND (dq.due OPERATOR(pg_catalog.&) 1) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format(
					'SELECT array_agg(id ORDER BY id) FROM ('
					'  SELECT id FROM queue.%I'
					'   WHERE delivery_count >= $1 AND visible_at <= clock_timestamp()'
					'   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) s',
					'q_' || r.queue_name)
					INTO ids USING r.max_deliveries, batch;
				n := queue._dead_letter(r.queue_name, r.dead_letter_queue, ids,
					format('delivered %s times without an ack', r.max_deliveries));
				lowest := ids[1];
				IF n OPERATOR(pg_catalog.>) 0 THEN
					dead_lettered := dead_lettered + n;
					PERFORM queue._count_dead(relid, n);
					/* groups limited: the next messages of their groups are free */
					IF r.max_in_flight_per_group IS NOT NULL THEN
						PERFORM queue._rewind(relid, lowest, false);
					END IF;
				END IF;
				/*
				 * What is left: last-chance deliveries still in flight come
				 * due when their timeouts run out; rows skipped (locked, or
				 * past the batch) are due at once.
				 */
				EXECUTE format('SELECT min(visible_at) FROM queue.%I WHERE delivery_count >= $1',
							   'q_' || r.queue_name)
					INTO next_due USING r.max_deliveries;
				IF n OPERATOR(pg_catalog.>=) batch THEN
					next_due := '-infinity'::pg_catalog.timestamptz;
				END IF;
				IF next_due IS NOT NULL THEN
					PERFORM queue._sweep_at(relid, next_due);
				END IF;
			END IF;

			/*
			 * The tables below are empty for most queues: a table of no
			 * pages (never written, or truncated by vacuum) is skipped
			 * without planning a statement for it.
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0
			   AND pg_catalog.pg_relation_size(format('queue.%I', 'a_' || r.queue_name))
			   OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'DELETE FROM queue.%1$I a WHERE a.id IN ('
					'  SELECT id FROM queue.%1$I'
					'   WHERE $1::interval IS NULL OR acked_at < clock_timestamp() - $1'
					'   ORDER BY acked_at LIMIT $2)',
					'a_' || r.queue_name)
					USING r.retention, batch;
				GET DIAGNOSTICS n = ROW_COUNT;
				purged := purged + n;
			END IF;

			/*
			 * Idempotency keys past the window; the age is checked again on
			 * the row deleted, which a send may have claimed again meanwhile.
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0
			   AND pg_catalog.pg_relation_size(format('queue.%I', 'k_' || r.queue_name))
			   OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'DELETE FROM queue.%1$I k WHERE k.key IN ('
					'  SELECT key FROM queue.%1$I'
					'   WHERE created_at < clock_timestamp() - $1'
					'   ORDER BY created_at LIMIT $2)'
					'  AND k.created_at < clock_timestamp() - $1',
					'k_' || r.queue_name)
					USING r.dedup_window, batch;
				GET DIAGNOSTICS n = ROW_COUNT;
				forgotten := forgotten + n;
			END IF;

			/* sequence numbers of producers silent for the window */
			IF (dq.due OPERATOR(pg_catalog.&) 2) OPERATOR(pg_catalog.<>) 0
			   AND pg_catalog.pg_relation_size(format('queue.%I', 'p_' || r.queue_name))
			   OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'DELETE FROM queue.%1$I p WHERE (p.producer, p.seq) IN ('
					'  SELECT producer, seq FROM queue.%1$I'
					'   WHERE producer IN (SELECT producer FROM queue.%1$I'
					'                       GROUP BY producer'
					'                      HAVING max(seen_at) < clock_timestamp() - $1)'
					'   LIMIT $2)',
					'p_' || r.queue_name)
					USING r.dedup_window, batch;
				GET DIAGNOSTICS n = ROW_COUNT;
				forgotten := forgotten + n;
			END IF;

			/*
			 * Messages past the message_ttl, not in flight (a consumer may
			 * still ack those), oldest first: to the dead letters with
			 * reason 'expired' (or the dead-letter queue), or dropped.
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 32) OPERATOR(pg_catalog.<>) 0 THEN
				hdr := queue._expiry_headers(relid);
				IF r.message_ttl IS NULL AND hdr OPERATOR(pg_catalog.=) 0 THEN
					PERFORM queue._expire_at(relid, NULL);
				ELSE
					EXECUTE format(
						'SELECT array_agg(id ORDER BY id) FROM ('
						'  SELECT id FROM queue.%I'
						'   WHERE (enqueued_at <= clock_timestamp() - $1'
						'          OR ($3 AND (headers ->> %L)::timestamptz <= clock_timestamp()))'
						'     AND NOT (leased AND visible_at > clock_timestamp())'
						'   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) s',
						'q_' || r.queue_name, 'queue_expires_at')
						INTO ids USING r.message_ttl, batch, hdr OPERATOR(pg_catalog.<>) 0;
					n := 0;
					IF ids IS NOT NULL AND r.drop_expired THEN
						EXECUTE format('DELETE FROM queue.%I WHERE id = ANY ($1)',
									   'q_' || r.queue_name) USING ids;
						GET DIAGNOSTICS n = ROW_COUNT;
						purged := purged + n;
					ELSE
						n := queue._dead_letter(r.queue_name, r.dead_letter_queue, ids,
												'expired');
					END IF;
					IF n OPERATOR(pg_catalog.>) 0 AND NOT r.drop_expired THEN
						dead_lettered := dead_lettered + n;
						PERFORM queue._count_dead(relid, n);
					END IF;
					IF n OPERATOR(pg_catalog.>) 0 AND r.max_in_flight_per_group IS NOT NULL THEN
						PERFORM queue._rewind(relid, ids[1], false);
					END IF;
					/*
					 * Next: when the oldest message left expires (ids come in
					 * about enqueued_at order), or the first own expiry (a
					 * scan, which also tells when no message has one any
					 * more); a full batch is looked at again at once,
					 * expired messages still in flight in a second.  NULL
					 * (nothing left to expire): not before the next send.
					 */
					IF pg_catalog.cardinality(ids) OPERATOR(pg_catalog.>=) batch THEN
						next_due := '-infinity'::pg_catalog.timestamptz;
					ELSE
						next_due := NULL;
						IF r.message_ttl IS NOT NULL THEN
							EXECUTE format('SELECT min(enqueued_at) FROM ('
										   '  SELECT enqueued_at FROM queue.%I ORDER BY id LIMIT 100) s',
										   'q_' || r.queue_name)
								INTO next_due;
							next_due := next_due OPERATOR(pg_catalog.+) r.message_ttl;
						END IF;
						IF hdr OPERATOR(pg_catalog.<>) 0 THEN
							EXECUTE format('SELECT min((headers ->> %L)::timestamptz), count(*) '
										   '  FROM queue.%I WHERE headers ? %L',
										   'queue_expires_at', 'q_' || r.queue_name,
										   'queue_expires_at')
								INTO own_due, n;
							IF n OPERATOR(pg_catalog.=) 0 THEN
								PERFORM queue._expiry_headers_clear(relid, hdr);
							END IF;
							next_due := LEAST(next_due, own_due);
						END IF;
						/* past: expired but in flight, look again in a second */
						IF next_due OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp() THEN
							next_due := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) interval '1 second';
						END IF;
					END IF;
					PERFORM queue._expire_at(relid, next_due);
				END IF;
			END IF;

			/* the counts of queue.stats and queue.metrics (src/measure.c) */
			IF (dq.due OPERATOR(pg_catalog.&) 16) OPERATOR(pg_catalog.<>) 0 THEN
				SELECT * INTO m FROM queue._count(r.queue_name);
				PERFORM queue._set_measured(relid, m.ready, m.in_flight, m.delayed,
											m.dead, m.archived, m.oldest_ready,
											m.next_change, m.as_of);
			END IF;

			/*
			 * A table left mostly free space by a held snapshot or a
			 * backlog, now drained and vacuumed: rewrite it, which gives
			 * the space back (its lock is waited for lock_timeout at most).
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format('CLUSTER queue.%I USING %I', 'q_' || r.queue_name,
							   'qpk_' || r.queue_name);
				RAISE LOG 'compacted the message table of queue "%"', r.queue_name;
			END IF;

			/* readers asleep while a delay or visibility timeout ran out */
			IF (dq.due OPERATOR(pg_catalog.&) 4) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I'
							   ' WHERE visible_at <= clock_timestamp())',
							   'q_' || r.queue_name)
					INTO due;
				IF due THEN
					PERFORM queue._wake(relid);
				END IF;
			END IF;
		EXCEPTION
			WHEN undefined_table OR lock_not_available THEN
				NULL;
			WHEN OTHERS THEN
				/* one queue's trouble must not stop the others' housekeeping */
				RAISE WARNING 'worker step on queue "%" failed: %', r.queue_name, SQLERRM
					USING ERRCODE = SQLSTATE;
		END;
	END LOOP;
END
$$;

/* What the worker of each database did; one row per database with the
 * extension (as far as the worker knows: a database's row appears after
 * its worker's first step). */
CREATE VIEW queue.worker_status AS
	SELECT d.datname AS database, s.pid, s.last_run, s.runs,
		   s.dead_lettered, s.purged, s.forgotten,
		   s.failures_counted, s.failures_dropped, s.last_error
	  FROM queue._worker_status() s
	  LEFT JOIN pg_catalog.pg_database d ON d.oid OPERATOR(pg_catalog.=) s.dbid;

/* Start this database's worker now, or say why there is none. */
DO $$
BEGIN
	IF NOT queue._preloaded() THEN
		RAISE WARNING 'the queue background worker is not running'
			USING DETAIL = 'Dead-lettering of timed-out and rolled-back deliveries and retention need it.',
				  HINT = 'Add queue to shared_preload_libraries and restart the server.';
	ELSE
		PERFORM queue._worker_wake();
	END IF;
END
$$;

/* ---------------------------------------------------------------------
 * Fan-out
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION queue._bind_impl(topic text, queue_name text)
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

CREATE FUNCTION queue.bind(topic text, queue_name text)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_bind';

CREATE FUNCTION queue._unbind_impl(topic text, queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(topic, 'topic name'::pg_catalog.text);
	PERFORM queue._lock_queue(queue_name);
	DELETE FROM queue.bindings b
	 WHERE b.topic OPERATOR(pg_catalog.=) _unbind_impl.topic
	   AND b.queue_name OPERATOR(pg_catalog.=) _unbind_impl.queue_name;
	RETURN FOUND;
END
$$;

CREATE FUNCTION queue.unbind(topic text, queue_name text)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_unbind';

/* Each bound queue gets its own copy, in the publisher's transaction. */
/* The queues bound to a topic, once the caller holds send on each (42501
 * for the first it does not): the bindings are read as the extension's
 * owner (src/acl.c). */
CREATE FUNCTION queue._bound_queues(topic text)
RETURNS text[]
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_bound_queues';

CREATE FUNCTION queue.publish(topic text, body jsonb, headers jsonb DEFAULT NULL,
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

/* ---------------------------------------------------------------------
 * Loss detection
 * ---------------------------------------------------------------------
 */

/* The sequence numbers never seen between each producer's lowest and
 * highest, as inclusive ranges. */
CREATE FUNCTION queue.producer_gaps(queue_name text)
RETURNS TABLE (producer text, missing_from bigint, missing_to bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_access(queue_name, 'consume'::pg_catalog.text);
	RETURN QUERY EXECUTE format(
		'SELECT producer, seq + 1, next_seq - 1 '
		'  FROM (SELECT producer, seq, '
		'               lead(seq) OVER (PARTITION BY producer ORDER BY seq) AS next_seq '
		'          FROM queue.%I) s '
		' WHERE next_seq > seq + 1 '
		' ORDER BY producer, seq', 'p_' || queue_name);
END
$$;

/* ---------------------------------------------------------------------
 * Past one server: queues on the nodes of a Citus cluster
 * ---------------------------------------------------------------------
 */

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

/* Run command on every node of the Citus cluster (this node alone without
 * Citus) and return its rows there as one JSON array per node, in the
 * caller's name; 08000 for a node that could not answer. */
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
	  FROM queue._on_all_nodes('SELECT * FROM queue.queues') n,
		   pg_catalog.json_populate_recordset(NULL::queue.queues, n.result) q
	 ORDER BY q.queue_name, n.node_name, n.node_port
$$;

/* queue.stats of every node's queues. */
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
	  FROM queue._on_all_nodes('SELECT * FROM queue.worker_status') n,
		   pg_catalog.json_populate_recordset(NULL::queue.worker_status, n.result) w
	 ORDER BY n.node_name, n.node_port, w.database
$$;

/* ---------------------------------------------------------------------
 * Privileges (src/acl.c)
 * ---------------------------------------------------------------------
 */

/*
 * Grant to role what reading its privilege on a queue includes: SELECT on
 * q_, dl_, a_ and p_ for consume, on all five tables for manage, nothing
 * for send; and, for each, the anchor: SELECT on the queue's id sequence,
 * without which its rows in queue.grants count for nothing (src/acl.c).
 */
CREATE FUNCTION queue._grant_tables(queue_name text, role regrole, privilege text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	CASE privilege
	WHEN 'send' THEN
		NULL;
	WHEN 'consume' THEN
		EXECUTE format('GRANT SELECT ON TABLE queue.%I, queue.%I, queue.%I, queue.%I TO %s',
					   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
					   'p_' || queue_name, role);
	WHEN 'manage' THEN
		EXECUTE format('GRANT SELECT ON TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I TO %s',
					   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
					   'k_' || queue_name, 'p_' || queue_name, role);
	END CASE;
	EXECUTE format('GRANT SELECT ON SEQUENCE %s TO %s',
				   pg_catalog.pg_get_serial_sequence(format('queue.%I', 'q_' || queue_name), 'id'),
				   role);
END
$$;

/*
 * Forget the rows of queue.grants that count for nothing any more: of
 * roles that DROP OWNED took the anchor (SELECT on the queue's id
 * sequence) from.  Called by the event trigger on DROP OWNED (so that DROP
 * ROLE may follow without leaving a row that names no role) and by grant
 * and revoke.
 */
CREATE FUNCTION queue._forget_unanchored()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM queue.grants g
	 WHERE NOT EXISTS (
		SELECT 1
		  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		 WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.pg_get_serial_sequence(
					format('queue.%I', 'q_' OPERATOR(pg_catalog.||) g.queue_name), 'id')::pg_catalog.regclass
		   AND a.grantee OPERATOR(pg_catalog.=) g.grantee::oid
		   AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT');
END
$$;

/* The event trigger's function: runs _forget_unanchored as the owner,
 * who may write the catalog (src/acl.c). */
CREATE FUNCTION queue._on_drop_owned()
RETURNS event_trigger
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_on_drop_owned';

/*
 * Look up role for grant and revoke: 42704 if there is no such role, 22023
 * for an unknown privilege.  Returns NULL for the tables' owner (the
 * extension's owner), who holds every privilege.
 */
CREATE FUNCTION queue._grantee(queue_name text, role name, privilege text)
RETURNS regrole
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r oid;
BEGIN
	IF privilege IS NULL
	   OR privilege OPERATOR(pg_catalog.<>) ALL (ARRAY['send', 'consume', 'manage']) THEN
		RAISE EXCEPTION 'unknown queue privilege "%"', coalesce(privilege, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The privileges are send, consume and manage.';
	END IF;
	SELECT a.oid INTO r FROM pg_catalog.pg_roles a
	 WHERE a.rolname OPERATOR(pg_catalog.=) role;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'role "%" does not exist', coalesce(role::text, 'NULL')
			USING ERRCODE = 'undefined_object';
	END IF;
	IF r OPERATOR(pg_catalog.=)
	   (SELECT c.relowner FROM pg_catalog.pg_class c
		 WHERE c.oid OPERATOR(pg_catalog.=) format('queue.%I', 'q_' || queue_name)::regclass) THEN
		RETURN NULL;
	END IF;
	PERFORM queue._forget_unanchored();
	RETURN r::regrole;
END
$$;

CREATE FUNCTION queue._grant_impl(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r regrole;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	r := queue._grantee(queue_name, role, privilege);
	IF r IS NULL THEN
		RETURN;		-- the owner has it already
	END IF;
	INSERT INTO queue.grants (queue_name, grantee, privilege)
	VALUES (_grant_impl.queue_name, r, _grant_impl.privilege)
	ON CONFLICT DO NOTHING;
	PERFORM queue._grant_tables(queue_name, r, privilege);
	PERFORM queue._invalidate(queue_name);
END
$$;

/*
 * Revoking a privilege deletes its row, takes back every table privilege
 * of role on the queue (the anchor included), then grants again what the
 * privileges role still holds on it include: manage includes send and
 * consume, so a manager whose send is revoked still sends.
 */
CREATE FUNCTION queue._revoke_impl(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r regrole;
	p text;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	r := queue._grantee(queue_name, role, privilege);
	IF r IS NULL THEN
		RAISE EXCEPTION 'cannot revoke privileges on queue "%" from its owner', queue_name
			USING ERRCODE = 'invalid_grant_operation',
				  DETAIL = 'The tables of every queue belong to the owner of the extension.';
	END IF;
	DELETE FROM queue.grants g
	 WHERE g.queue_name OPERATOR(pg_catalog.=) _revoke_impl.queue_name
	   AND g.grantee OPERATOR(pg_catalog.=) r
	   AND g.privilege OPERATOR(pg_catalog.=) _revoke_impl.privilege;
	EXECUTE format('REVOKE ALL ON TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I FROM %s',
				   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
				   'k_' || queue_name, 'p_' || queue_name, r);
	EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %s',
				   pg_catalog.pg_get_serial_sequence(format('queue.%I', 'q_' || queue_name), 'id'), r);
	FOR p IN
		SELECT g.privilege FROM queue.grants g
		 WHERE g.queue_name OPERATOR(pg_catalog.=) _revoke_impl.queue_name
		   AND g.grantee OPERATOR(pg_catalog.=) r
	LOOP
		PERFORM queue._grant_tables(queue_name, r, p);
	END LOOP;
	PERFORM queue._invalidate(queue_name);
END
$$;

CREATE FUNCTION queue."grant"(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_grant';

CREATE FUNCTION queue."revoke"(queue_name text, role name, privilege text)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_revoke';

/*
 * CREATE on schema queue is the right to create queues (README, Privileges), but
 * nobody other than the extension's owner (and superusers) may create
 * objects in the schema themselves: a function planted there could
 * overload one of the extension's and be called instead, by a caller or
 * by the managing functions, which run as the owner.  queue.create makes
 * its tables as the owner, so it passes.
 */
CREATE FUNCTION queue._guard_schema()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cmd record;
BEGIN
	IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
				WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER AND r.rolsuper)
	   OR CURRENT_USER OPERATOR(pg_catalog.=)
		  (SELECT pg_catalog.pg_get_userbyid(e.extowner) FROM pg_catalog.pg_extension e
			WHERE e.extname OPERATOR(pg_catalog.=) 'queue') THEN
		RETURN;
	END IF;
	FOR cmd IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
		IF cmd.schema_name OPERATOR(pg_catalog.=) 'queue' THEN
			RAISE EXCEPTION 'permission denied to create "%" in schema queue', cmd.object_identity
				USING ERRCODE = 'insufficient_privilege',
					  DETAIL = 'Only the owner of extension queue creates objects in its schema; CREATE on the schema is the right to create queues.',
					  HINT = 'Create queues with queue.create().';
		END IF;
	END LOOP;
END
$$;

CREATE EVENT TRIGGER queue_guard_schema ON ddl_command_end
	EXECUTE FUNCTION queue._guard_schema();

CREATE EVENT TRIGGER queue_drop_owned ON ddl_command_end
	WHEN TAG IN ('DROP OWNED')
	EXECUTE FUNCTION queue._on_drop_owned();

/*
 * Who may call what.  Everyone may use the schema and call the public
 * functions, which check the per-queue privileges themselves; the catalog
 * tables are the owner's, and queue.queues shows each role the queues it
 * holds a privilege on.  The internal functions that write, wake or trust
 * their arguments are for the extension's owner (and the worker).
 */
GRANT USAGE ON SCHEMA queue TO PUBLIC;
GRANT SELECT ON queue.queues, queue.worker_status, queue.metrics TO PUBLIC;
REVOKE ALL ON queue.registry, queue.bindings, queue.grants FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION
	queue._invalidate(text),
	queue._reset_totals(oid),
	queue._count_visible(oid, bigint),
	queue._has_sleepers(oid),
	queue._wake(oid),
	queue._depend_on_extension(regclass),
	queue._lock_queue(text),
	queue._create_impl(text, interval, integer, interval, interval, interval,
					   interval, boolean, boolean, boolean, integer, text, interval,
					   boolean, oid),
	queue._alter_impl(text, interval, integer, interval, interval, interval,
					  interval, boolean, boolean, integer, text, interval, boolean),
	queue._expire_at(oid, timestamptz),
	queue._note_expiry(oid, timestamptz),
	queue._expiry_headers(oid),
	queue._expiry_headers_clear(oid, bigint),
	queue._check_dead_letter_queue(text, text),
	queue._forward_dead(text, text, bigint[], text),
	queue._dead_letter(text, text, bigint[], text),
	queue._drop_impl(text, boolean),
	queue._purge_impl(text),
	queue._pause_impl(text),
	queue._resume_impl(text),
	queue._redrive_impl(text, integer, bigint[]),
	queue._bind_impl(text, text),
	queue._unbind_impl(text, text),
	queue._grant_tables(text, regrole, text),
	queue._forget_unanchored(),
	queue._on_drop_owned(),
	queue._grantee(text, name, text),
	queue._grant_impl(text, name, text),
	queue._revoke_impl(text, name, text),
	queue._worker_wake(),
	queue._failed_deliveries(integer),
	queue._requeue_failure(oid, bigint, integer, integer),
	queue._count_dead(oid, bigint),
	queue._set_measured(oid, bigint, bigint, bigint, bigint, bigint, timestamptz,
						timestamptz, timestamptz),
	queue._sweep_at(oid, timestamptz),
	queue._rewind(oid, bigint, boolean),
	queue._full_pass_due(),
	queue._due_queues(oid[], boolean),
	queue._worker_step(integer),
	queue._guard_schema(),
	queue._placement_shard_check(bigint),
	queue.citus_distribute(regclass)
FROM PUBLIC;

/* ---------------------------------------------------------------------
 * Comments: \df+ queue.* explains every function.  The same block
 * ends sql/queue--0.4.0--0.5.0.sql; test/pgtap/comments.sql checks that
 * every function of the schema has one, test/t/020_comments.pl that an
 * updated database has the same as a fresh one.
 * ---------------------------------------------------------------------
 */

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
COMMENT ON FUNCTION queue._max_span() IS
'Internal: the longest span of a queue option, 100 years (QUEUE_MAX_SPAN_YEARS in the library).';
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
