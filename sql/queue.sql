/*
 * queue: transactional message queues for PostgreSQL.
 *
 * The source of the install script: tools/assemble builds
 * sql/queue--<version>.sql from it, putting in the files its \ir lines
 * name.  What is made once is here (the schema's guard, the catalog
 * tables, the event triggers, the grants); the functions are in
 * sql/functions/, one file each, listed in sql/functions.sql, and the views
 * in sql/views.sql, which update scripts include too (DESIGN.md, "The SQL
 * sources").  Everything is schema-qualified and every function pins its
 * search_path.
 *
 * Copyright (c) 2026, the queue authors
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
	queue_name			text PRIMARY KEY,	/* CHECK below */
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
	topic		text NOT NULL,	/* CHECK below */
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

\ir functions.sql

\ir views.sql

/* The name rule (src/validate.c) on the catalog's names. */
ALTER TABLE queue.registry ADD CONSTRAINT registry_queue_name_check
	CHECK (queue._valid_name(queue_name));
ALTER TABLE queue.bindings ADD CONSTRAINT bindings_topic_check
	CHECK (queue._valid_name(topic));

CREATE EVENT TRIGGER queue_guard_schema ON ddl_command_end
	EXECUTE FUNCTION queue._guard_schema();

CREATE EVENT TRIGGER queue_drop_owned ON ddl_command_end
	WHEN TAG IN ('DROP OWNED')
	EXECUTE FUNCTION queue._on_drop_owned();

/*
 * Who may call what.  Everyone may use the schema and call the public
 * functions, which check the per-queue privileges themselves; the catalog
 * tables are the owner's, and queue.queues shows each role the queues it
 * holds a privilege on (sql/views.sql).  The internal functions that write,
 * wake or trust their arguments are for the extension's owner (and the
 * worker): their files in sql/functions/ revoke EXECUTE from PUBLIC.
 */
GRANT USAGE ON SCHEMA queue TO PUBLIC;
REVOKE ALL ON queue.registry, queue.bindings, queue.grants FROM PUBLIC;

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
