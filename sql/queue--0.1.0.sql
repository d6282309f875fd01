/*
 * queue: transactional message queues for PostgreSQL.
 *
 * The source of the install script; the Makefile copies it into
 * sql/queue--<version>.sql.  Everything is schema-qualified and every
 * function pins its search_path.
 */

\echo Use "CREATE EXTENSION queue" to load this file. \quit

/*
 * The catalog: one row per queue.  Each queue also has three tables of its
 * own, created by queue.create: queue.q_<name> (messages),
 * queue.dl_<name> (dead letters) and queue.a_<name> (archive).  Those are
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
	unlogged			boolean NOT NULL
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

CREATE VIEW queue.queues AS
	SELECT queue_name, created_at, visibility_timeout, max_deliveries,
		   retry_delay, retry_delay_max, dedup_window, retention, ordered,
		   unlogged
	  FROM queue.registry;

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

/* Make every backend drop its cached options and plans for a queue. */
CREATE FUNCTION queue._invalidate(queue_name text)
RETURNS void
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_invalidate_sql';

/* The shared-memory counters of a queue's message table. */
CREATE FUNCTION queue._totals(relid oid,
	OUT sent_total bigint, OUT acked_total bigint, OUT dead_total bigint)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_totals_sql';

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
			USING ERRCODE = '22023';
	END IF;
	IF max_deliveries OPERATOR(pg_catalog.<) 0 THEN
		RAISE EXCEPTION 'max_deliveries must not be negative (0 means never dead-letter)'
			USING ERRCODE = '22023';
	END IF;
	IF retry_delay OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'retry_delay must not be negative' USING ERRCODE = '22023';
	END IF;
	IF retry_delay_max OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'retry_delay_max must not be negative' USING ERRCODE = '22023';
	END IF;
	IF dedup_window OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'dedup_window must not be negative' USING ERRCODE = '22023';
	END IF;
	IF retention OPERATOR(pg_catalog.<) interval '0' THEN
		RAISE EXCEPTION 'retention must not be negative' USING ERRCODE = '22023';
	END IF;
END
$$;

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
		RAISE EXCEPTION 'queue "%" does not exist', queue_name
			USING ERRCODE = '42704';
	END IF;
	RETURN r;
END
$$;

/* ---------------------------------------------------------------------
 * Managing queues
 * ---------------------------------------------------------------------
 */

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
	if_not_exists		boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	kind text;
BEGIN
	PERFORM queue._check_name(queue_name);
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
	/* a zero retention keeps nothing: the same as none */
	IF retention OPERATOR(pg_catalog.=) interval '0' THEN
		retention := NULL;
	END IF;

	IF EXISTS (SELECT 1 FROM queue.registry r
				WHERE r.queue_name OPERATOR(pg_catalog.=) "create".queue_name) THEN
		IF coalesce(if_not_exists, false) THEN
			RAISE NOTICE 'queue "%" already exists, skipping', queue_name;
			RETURN;
		END IF;
		RAISE EXCEPTION 'queue "%" already exists', queue_name
			USING ERRCODE = '42710';
	END IF;

	INSERT INTO queue.registry (queue_name, visibility_timeout, max_deliveries,
		retry_delay, retry_delay_max, dedup_window, retention, ordered, unlogged)
	VALUES (queue_name, visibility_timeout, max_deliveries, retry_delay,
		retry_delay_max, dedup_window, retention, ordered, unlogged);

	kind := CASE WHEN unlogged THEN 'UNLOGGED ' ELSE '' END;

	/*
	 * Only id is indexed for priority 0, so that reads update visible_at
	 * and delivery_count as HOT updates; messages with another priority
	 * have a partial index of their own.
	 */
	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			id				bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
			body			jsonb NOT NULL,
			headers			jsonb,
			delivery_count	integer NOT NULL DEFAULT 0,
			enqueued_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
			visible_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
			group_key		text,
			idempotency_key	text,
			priority		integer NOT NULL DEFAULT 0,
			leased			boolean NOT NULL DEFAULT false
		) WITH (fillfactor = 90)$ddl$, kind, 'q_' || queue_name);
	EXECUTE format('CREATE INDEX %I ON queue.%I (priority DESC, id) WHERE priority <> 0',
				   'q_' || queue_name || '_priority', 'q_' || queue_name);

	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			id				bigint PRIMARY KEY,
			body			jsonb NOT NULL,
			headers			jsonb,
			delivery_count	integer NOT NULL,
			enqueued_at		timestamptz NOT NULL,
			dead_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
			reason			text,
			group_key		text,
			idempotency_key	text,
			priority		integer NOT NULL DEFAULT 0
		)$ddl$, kind, 'dl_' || queue_name);

	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			id				bigint PRIMARY KEY,
			body			jsonb NOT NULL,
			headers			jsonb,
			delivery_count	integer NOT NULL,
			enqueued_at		timestamptz NOT NULL,
			acked_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
			group_key		text,
			idempotency_key	text,
			priority		integer NOT NULL DEFAULT 0
		)$ddl$, kind, 'a_' || queue_name);
	EXECUTE format('CREATE INDEX %I ON queue.%I (acked_at)',
				   'a_' || queue_name || '_acked_at', 'a_' || queue_name);

	/* ordered queues: a message waits for the earlier ones of its group */
	EXECUTE format('CREATE INDEX %I ON queue.%I (group_key, id) WHERE group_key IS NOT NULL',
				   'q_' || queue_name || '_group', 'q_' || queue_name);

	/* idempotency keys, remembered for dedup_window from the first send */
	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			key				text PRIMARY KEY,
			id				bigint NOT NULL,
			created_at		timestamptz NOT NULL
		)$ddl$, kind, 'k_' || queue_name);
	/* keys arrive in created_at order: a BRIN index costs a send next to
	 * nothing and lets the worker find the expired ones */
	EXECUTE format('CREATE INDEX %I ON queue.%I USING brin (created_at)',
				   'k_' || queue_name || '_created_at', 'k_' || queue_name);

	/* producer sequence numbers, for loss detection */
	EXECUTE format($ddl$
		CREATE %sTABLE queue.%I (
			producer		text NOT NULL,
			seq				bigint NOT NULL,
			id				bigint NOT NULL,
			seen_at			timestamptz NOT NULL,
			PRIMARY KEY (producer, seq)
		)$ddl$, kind, 'p_' || queue_name);

	PERFORM queue._depend_on_extension(format('queue.%I', tab || queue_name)::regclass)
	   FROM unnest(ARRAY['q_', 'dl_', 'a_', 'k_', 'p_']) AS tab;
	PERFORM queue._reset_totals(format('queue.%I', 'q_' || queue_name)::regclass::oid);
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
	unlogged			boolean DEFAULT NULL)
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
	new.ordered := coalesce(ordered, old.ordered);
	new.unlogged := coalesce(unlogged, old.unlogged);
	PERFORM queue._check_options(new.visibility_timeout, new.max_deliveries,
								 new.retry_delay, new.retry_delay_max,
								 new.dedup_window, new.retention);
	/* a zero retention turns archiving off again */
	IF new.retention OPERATOR(pg_catalog.=) interval '0' THEN
		new.retention := NULL;
	END IF;

	IF new.ordered IS DISTINCT FROM old.ordered THEN
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I)', 'q_' || queue_name)
			INTO STRICT tab;
		IF tab::boolean THEN
			RAISE EXCEPTION 'cannot change "ordered" of queue "%" while it holds messages', queue_name
				USING ERRCODE = '55000',
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
		   unlogged = new.unlogged
	 WHERE r.queue_name OPERATOR(pg_catalog.=) "alter".queue_name;

	PERFORM queue._invalidate(queue_name);
END
$$;

CREATE FUNCTION queue."drop"(queue_name text, if_exists boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(queue_name);
	PERFORM 1 FROM queue.registry r
	  WHERE r.queue_name OPERATOR(pg_catalog.=) "drop".queue_name
	  FOR UPDATE;
	IF NOT FOUND THEN
		IF coalesce(if_exists, false) THEN
			RETURN false;
		END IF;
		RAISE EXCEPTION 'queue "%" does not exist', queue_name
			USING ERRCODE = '42704';
	END IF;

	EXECUTE format('DROP TABLE queue.%I, queue.%I, queue.%I, queue.%I, queue.%I',
				   'q_' || queue_name, 'dl_' || queue_name, 'a_' || queue_name,
				   'k_' || queue_name, 'p_' || queue_name);
	DELETE FROM queue.bindings b
	 WHERE b.queue_name OPERATOR(pg_catalog.=) "drop".queue_name;
	DELETE FROM queue.registry r
	 WHERE r.queue_name OPERATOR(pg_catalog.=) "drop".queue_name;
	RETURN true;
END
$$;

CREATE FUNCTION queue.purge(queue_name text)
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
	producer_seq	bigint DEFAULT NULL)
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
	priority			integer DEFAULT 0)
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
	PERFORM queue._check_name(queue_name);
	IF quantity IS NULL OR quantity OPERATOR(pg_catalog.<) 1
	   OR quantity OPERATOR(pg_catalog.>) current_setting('queue.max_batch')::integer THEN
		RAISE EXCEPTION 'quantity must be between 1 and %, not %',
			current_setting('queue.max_batch'), coalesce(quantity::text, 'NULL')
			USING ERRCODE = '22023',
				  HINT = 'The upper limit is the setting queue.max_batch.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM queue.registry r
					WHERE r.queue_name OPERATOR(pg_catalog.=) dead_letters.queue_name) THEN
		RAISE EXCEPTION 'queue "%" does not exist', queue_name USING ERRCODE = '42704';
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT id, body, headers, delivery_count, enqueued_at, dead_at, reason, '
		'       group_key, idempotency_key '
		'  FROM queue.%I ORDER BY id LIMIT $1', 'dl_' || queue_name)
		USING quantity;
END
$$;

CREATE FUNCTION queue.redrive(queue_name text, quantity integer DEFAULT NULL,
							  ids bigint[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM queue._lock_queue(queue_name);
	IF quantity OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'quantity must be at least 1, not %', quantity
			USING ERRCODE = '22023';
	END IF;
	EXECUTE format(
		'WITH moved AS ('
		'  DELETE FROM queue.%1$I d WHERE d.id IN ('
		'    SELECT id FROM queue.%1$I'
		'     WHERE ($2::bigint[] IS NULL OR id = ANY ($2))'
		'     ORDER BY id LIMIT $1 FOR UPDATE)'
		'  RETURNING d.id, d.body, d.headers, d.enqueued_at, d.group_key,'
		'            d.idempotency_key, d.priority) '
		'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
		'                        visible_at, group_key, idempotency_key, priority) '
		'SELECT id, body, headers, 0, enqueued_at, now(), group_key,'
		'       idempotency_key, priority FROM moved',
		'dl_' || queue_name, 'q_' || queue_name)
		USING quantity, ids;
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM queue._count_visible(format('queue.%I', 'q_' || queue_name)::regclass::oid, n);
	RETURN n;
END
$$;

/* ---------------------------------------------------------------------
 * Observing
 * ---------------------------------------------------------------------
 */

CREATE FUNCTION queue._stats(which text)
RETURNS TABLE (queue_name text, ready bigint, in_flight bigint, delayed bigint,
			   dead bigint, archived bigint, oldest_ready_age interval,
			   sent_total bigint, acked_total bigint, dead_total bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	qname text;
BEGIN
	IF which IS NOT NULL THEN
		PERFORM queue._check_name(which);
		IF NOT EXISTS (SELECT 1 FROM queue.registry r
						WHERE r.queue_name OPERATOR(pg_catalog.=) which) THEN
			RAISE EXCEPTION 'queue "%" does not exist', which
				USING ERRCODE = '42704';
		END IF;
	END IF;
	FOR qname IN
		SELECT r.queue_name FROM queue.registry r
		 WHERE which IS NULL
			OR r.queue_name OPERATOR(pg_catalog.=) which
		 ORDER BY r.queue_name
	LOOP
		RETURN QUERY EXECUTE format(
			'SELECT $1, m.ready, m.in_flight, m.delayed, '
			'       (SELECT count(*) FROM queue.%2$I), '
			'       (SELECT count(*) FROM queue.%3$I), '
			'       m.oldest_ready_age, t.sent_total, t.acked_total, t.dead_total '
			'  FROM (SELECT count(*) FILTER (WHERE visible_at <= $2) AS ready, '
			'               count(*) FILTER (WHERE visible_at > $2 AND leased) AS in_flight, '
			'               count(*) FILTER (WHERE visible_at > $2 AND NOT leased) AS delayed, '
			'               $2 - min(enqueued_at) FILTER (WHERE visible_at <= $2) '
			'                 AS oldest_ready_age '
			'          FROM queue.%1$I) m, '
			'       queue._totals(%4$s) t',
			'q_' || qname, 'dl_' || qname, 'a_' || qname,
			format('queue.%I', 'q_' || qname)::regclass::oid)
			USING qname, clock_timestamp();
	END LOOP;
END
$$;

/* The public face of queue._stats (an argument may share its name with a
 * result column in SQL functions only). */
CREATE FUNCTION queue.stats(queue_name text DEFAULT NULL)
RETURNS TABLE (queue_name text, ready bigint, in_flight bigint, delayed bigint,
			   dead bigint, archived bigint, oldest_ready_age interval,
			   sent_total bigint, acked_total bigint, dead_total bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM queue._stats($1) $$;

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

CREATE FUNCTION queue._failed_deliveries(max integer)
RETURNS TABLE (relid oid, id bigint, failures integer)
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_failed_deliveries_sql';

CREATE FUNCTION queue._requeue_failure(relid oid, id bigint, failures integer)
RETURNS void
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_requeue_failure_sql';

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
 *    cannot both win.
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
	n bigint;
	relid oid;
	due boolean;
BEGIN
	dead_lettered := 0;
	purged := 0;
	forgotten := 0;
	failures_counted := 0;

	FOR r IN
		SELECT f.relid, f.id, f.failures, q.queue_name
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
				'UPDATE queue.%1$I SET delivery_count = delivery_count + $2 '
				' WHERE id = (SELECT id FROM queue.%1$I WHERE id = $1'
				'               AND NOT (leased AND visible_at > clock_timestamp())'
				'             FOR UPDATE SKIP LOCKED)',
				'q_' || r.queue_name)
				USING r.id, r.failures;
			GET DIAGNOSTICS n = ROW_COUNT;
			failures_counted := failures_counted + n * r.failures;
			IF n OPERATOR(pg_catalog.=) 0 THEN
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I WHERE id = $1)',
							   'q_' || r.queue_name)
					INTO due USING r.id;
				IF due THEN
					PERFORM queue._requeue_failure(r.relid, r.id, r.failures);
				END IF;
			END IF;
		EXCEPTION WHEN undefined_table THEN
			NULL;
		END;
	END LOOP;

	FOR r IN SELECT * FROM queue.registry ORDER BY queue_name LOOP
		BEGIN
			IF r.max_deliveries OPERATOR(pg_catalog.>) 0 THEN
				EXECUTE format(
					'WITH dead AS ('
					'  DELETE FROM queue.%1$I m WHERE m.id IN ('
					'    SELECT id FROM queue.%1$I'
					'     WHERE delivery_count >= $1 AND visible_at <= clock_timestamp()'
					'     ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)'
					'  RETURNING m.id, m.body, m.headers, m.delivery_count, m.enqueued_at,'
					'            m.group_key, m.idempotency_key, m.priority) '
					'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
					'                        reason, group_key, idempotency_key, priority) '
					'SELECT id, body, headers, delivery_count, enqueued_at, $3, group_key,'
					'       idempotency_key, priority FROM dead',
					'q_' || r.queue_name, 'dl_' || r.queue_name)
					USING r.max_deliveries, batch,
						  format('delivered %s times without an ack', r.max_deliveries);
				GET DIAGNOSTICS n = ROW_COUNT;
				IF n OPERATOR(pg_catalog.>) 0 THEN
					dead_lettered := dead_lettered + n;
					PERFORM queue._count_dead(
						format('queue.%I', 'q_' || r.queue_name)::regclass::oid, n);
				END IF;
			END IF;

			EXECUTE format(
				'DELETE FROM queue.%1$I a WHERE a.id IN ('
				'  SELECT id FROM queue.%1$I'
				'   WHERE $1::interval IS NULL OR acked_at < clock_timestamp() - $1'
				'   ORDER BY acked_at LIMIT $2)',
				'a_' || r.queue_name)
				USING r.retention, batch;
			GET DIAGNOSTICS n = ROW_COUNT;
			purged := purged + n;

			/*
			 * Idempotency keys past the window; the age is checked again on
			 * the row deleted, which a send may have claimed again meanwhile.
			 */
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

			/* sequence numbers of producers silent for the window */
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

			/* readers asleep while a delay or visibility timeout ran out */
			relid := format('queue.%I', 'q_' || r.queue_name)::regclass::oid;
			IF queue._has_sleepers(relid) THEN
				EXECUTE format('SELECT EXISTS (SELECT 1 FROM queue.%I'
							   ' WHERE visible_at <= clock_timestamp())',
							   'q_' || r.queue_name)
					INTO due;
				IF due THEN
					PERFORM queue._wake(relid);
				END IF;
			END IF;
		EXCEPTION WHEN undefined_table OR lock_not_available THEN
			NULL;
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
		RAISE WARNING 'queue: the background worker is not running'
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

CREATE FUNCTION queue.bind(topic text, queue_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(topic, 'topic name');
	PERFORM queue._lock_queue(queue_name);
	INSERT INTO queue.bindings (topic, queue_name)
	VALUES (bind.topic, bind.queue_name)
	ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION queue.unbind(topic text, queue_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM queue._check_name(topic, 'topic name');
	PERFORM queue._lock_queue(queue_name);
	DELETE FROM queue.bindings b
	 WHERE b.topic OPERATOR(pg_catalog.=) unbind.topic
	   AND b.queue_name OPERATOR(pg_catalog.=) unbind.queue_name;
	RETURN FOUND;
END
$$;

/* Each bound queue gets its own copy, in the publisher's transaction. */
CREATE FUNCTION queue.publish(topic text, body jsonb, headers jsonb DEFAULT NULL,
							  delay interval DEFAULT NULL,
							  idempotency_key text DEFAULT NULL,
							  group_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text;
	n integer := 0;
BEGIN
	PERFORM queue._check_name(topic, 'topic name');
	FOR q IN
		SELECT b.queue_name FROM queue.bindings b
		 WHERE b.topic OPERATOR(pg_catalog.=) publish.topic
		 ORDER BY b.queue_name
	LOOP
		PERFORM queue.send(q, body, headers, delay, idempotency_key, group_key);
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
	PERFORM queue._check_name(queue_name);
	IF NOT EXISTS (SELECT 1 FROM queue.registry r
					WHERE r.queue_name OPERATOR(pg_catalog.=) producer_gaps.queue_name) THEN
		RAISE EXCEPTION 'queue "%" does not exist', queue_name USING ERRCODE = '42704';
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT producer, seq + 1, next_seq - 1 '
		'  FROM (SELECT producer, seq, '
		'               lead(seq) OVER (PARTITION BY producer ORDER BY seq) AS next_seq '
		'          FROM queue.%I) s '
		' WHERE next_seq > seq + 1 '
		' ORDER BY producer, seq', 'p_' || queue_name);
END
$$;
