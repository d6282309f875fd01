/*
 * test/fuzz/setup.sql -- the fuzzer's helpers, in a schema "fuzz" of the
 * database under test (run once, as a superuser, after CREATE EXTENSION
 * queue).  Nothing here is part of the extension.
 *
 *   fuzz.fp()             a fingerprint of everything a call could write
 *                         (but the queues of the noise sessions, whose
 *                         names contain fzc_):
 *                         queue.registry, queue.bindings, queue.grants,
 *                         the catalog rows of the schema's relations
 *                         (ACLs, persistence), per queue the
 *                         row count and a hash of the rows of q_, dl_, a_,
 *                         k_ and p_, the shared-memory counters of
 *                         queue.stats(exact => true), and (kept apart) what the
 *                         background worker has done so far
 *   fuzz.check(fp, n)     compare the state now with fp; raise
 *                         'FUZZ-FAIL ...' when it changed in a way the
 *                         background worker cannot explain
 *   fuzz.try(sql)         run sql in a subtransaction; its SQLSTATE and
 *                         message, or '00000'
 *   fuzz.housekeep(p)     (re)create the fuzzer's real queues (p_a, p_o,
 *                         p_r, p_u, p_p; p is fz, or fzc for the noise
 *                         sessions), keep every queue small, drop surplus
 *                         queues
 *   fuzz.invariants(n)    what must hold whatever the fuzzer did (n: the
 *                         noise sessions' queues too)
 *
 * fp, check and invariants are SECURITY DEFINER, so that the unprivileged
 * role can take fingerprints of tables it may not read.
 *
 * Copyright (c) 2026, the queue authors
 */

CREATE SCHEMA fuzz;
GRANT USAGE ON SCHEMA fuzz TO PUBLIC;

CREATE FUNCTION fuzz.fp() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts text[];
	q text;
	t text;
	h text;
	w text;
	sql text;
BEGIN
	/*
	 * What the worker did, first: a change to the tables made after this
	 * is then seen in its counters by fuzz.check (the worker adds to them
	 * before its commit, and to runs after).
	 */
	SELECT 'w=' || coalesce(string_agg(concat_ws(',', x.runs, x.dead_lettered, x.purged,
												 x.forgotten, x.failures_counted), '/'), '-')
	  INTO w FROM queue.worker_status x;
	SELECT 'reg=' || count(*) || ':' ||
		   coalesce(md5(string_agg(x::text, '|' ORDER BY x.queue_name)), '-')
	  INTO h FROM queue.registry x WHERE x.queue_name NOT LIKE '%fzc\_%';
	parts := ARRAY[h];
	SELECT 'bind=' || count(*) || ':' ||
		   coalesce(md5(string_agg(x::text, '|' ORDER BY x.topic, x.queue_name)), '-')
	  INTO h FROM queue.bindings x WHERE x.queue_name NOT LIKE '%fzc\_%';
	parts := parts || h;
	/* privileges: queue.grants (when there is one) and the tables' ACLs */
	IF to_regclass('queue.grants') IS NOT NULL THEN
		EXECUTE 'SELECT ''grants='' || count(*) || '':'' || '
				'coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), ''-'') '
				'FROM queue.grants x WHERE x.queue_name NOT LIKE ''%fzc\_%'''
		   INTO h;
		parts := parts || h;
	END IF;
	SELECT 'cat=' || count(*) || ':' ||
		   md5(string_agg(concat_ws(',', c.relname, c.relkind, c.relpersistence, c.relacl),
						  '|' ORDER BY c.relname))
	  INTO h FROM pg_class c
	 WHERE c.relnamespace = 'queue'::regnamespace AND c.relname NOT LIKE '%fzc\_%';
	parts := parts || h;
	FOR q IN SELECT r.queue_name FROM queue.registry r
			  WHERE r.queue_name NOT LIKE '%fzc\_%' ORDER BY 1 LOOP
		sql := NULL;
		FOREACH t IN ARRAY ARRAY['q_', 'dl_', 'a_', 'k_', 'p_'] LOOP
			IF to_regclass(format('queue.%I', t || q)) IS NULL THEN
				h := quote_literal(t || q || '=missing');
			ELSE
				h := format('(SELECT %L || count(*) || '':'' || '
							'coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), ''-'') '
							'FROM queue.%I x)', t || q || '=', t || q);
			END IF;
			sql := concat_ws(', ', sql, h);
		END LOOP;
		EXECUTE 'SELECT concat_ws('';'', ' || sql || ')' INTO h;
		parts := parts || h;
		/* the counters of queue.stats(exact => true), without its counts */
		IF to_regprocedure('queue._totals(oid)') IS NOT NULL
		   AND to_regclass(format('queue.%I', 'q_' || q)) IS NOT NULL THEN
			SELECT 'tot_' || q || '=' || s.sent_total || ',' || s.acked_total || ',' || s.dead_total
			  INTO h FROM queue._totals(format('queue.%I', 'q_' || q)::regclass::oid) s;
			parts := parts || h;
		END IF;
	END LOOP;
	IF to_regprocedure('queue._totals(oid)') IS NULL THEN
		FOR h IN SELECT 'tot_' || s.queue_name || '=' || s.sent_total || ',' ||
						s.acked_total || ',' || s.dead_total
				   FROM queue.registry r, queue.stats(r.queue_name, exact => true) s
				  WHERE r.queue_name NOT LIKE '%fzc\_%'
				  ORDER BY s.queue_name LOOP
			parts := parts || h;
		END LOOP;
	END IF;
	RETURN array_to_string(parts || w, ';');
END
$$;

/*
 * Whether a change of one part of the fingerprint could be the background
 * worker's: it dead-letters (q_ shrinks, dl_ grows, dead_total grows),
 * counts failed deliveries (q_ rows change), and forgets archived
 * messages, idempotency keys and producer sequence numbers (a_, k_, p_
 * shrink).  It never creates, drops, sends or acks.
 */
CREATE FUNCTION fuzz._worker_could(k text, b text, a text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	bn bigint;
	an bigint;
BEGIN
	IF b IS NULL OR a IS NULL OR b = 'missing' OR a = 'missing' THEN
		RETURN false;
	END IF;
	IF k LIKE 'tot\_%' THEN
		RETURN split_part(b, ',', 1) = split_part(a, ',', 1)
		   AND split_part(b, ',', 2) = split_part(a, ',', 2)
		   AND split_part(a, ',', 3)::bigint >= split_part(b, ',', 3)::bigint;
	END IF;
	bn := split_part(b, ':', 1)::bigint;
	an := split_part(a, ':', 1)::bigint;
	IF k LIKE 'dl\_%' THEN
		RETURN an >= bn;
	ELSIF k LIKE 'q\_%' OR k LIKE 'a\_%' OR k LIKE 'k\_%' OR k LIKE 'p\_%' THEN
		RETURN an <= bn;
	END IF;
	RETURN false;				/* reg, bind */
END
$$;

CREATE FUNCTION fuzz.check(before text, callno integer) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	after text := fuzz.fp();
	diffs text;
	unexplained boolean;
	w_before text;
	w_now text;
BEGIN
	IF after = before THEN
		RETURN 'same';
	END IF;
	WITH b AS (SELECT split_part(e, '=', 1) AS k, substr(e, strpos(e, '=') + 1) AS v
				 FROM unnest(string_to_array(before, ';')) e),
		 a AS (SELECT split_part(e, '=', 1) AS k, substr(e, strpos(e, '=') + 1) AS v
				 FROM unnest(string_to_array(after, ';')) e),
		 d AS (SELECT coalesce(b.k, a.k) AS k, b.v AS bv, a.v AS av
				 FROM b FULL JOIN a ON a.k = b.k
				WHERE b.v IS DISTINCT FROM a.v AND coalesce(b.k, a.k) <> 'w')
	SELECT string_agg(format('%s: %s -> %s', k, coalesce(bv, '(none)'), coalesce(av, '(none)')), ', '),
		   bool_or(NOT fuzz._worker_could(k, bv, av))
	  INTO diffs, unexplained
	  FROM d;
	IF diffs IS NULL THEN
		RETURN 'same';			/* only the worker's own counters moved */
	END IF;
	IF NOT unexplained THEN
		/*
		 * The worker updates its counters before its commit and its run
		 * count after: if a step ended since the first fingerprint, the
		 * change may be its work.
		 */
		PERFORM pg_sleep(0.3);
		w_before := substr(before, strpos(before, ';w=') + 3);
		SELECT coalesce(string_agg(concat_ws(',', w.runs, w.dead_lettered, w.purged,
											 w.forgotten, w.failures_counted), '/'), '-')
		  INTO w_now FROM queue.worker_status w;
		IF w_now IS DISTINCT FROM w_before THEN
			RETURN 'inconclusive';
		END IF;
	END IF;
	RAISE EXCEPTION 'FUZZ-FAIL call %: state changed: %', callno, diffs
		USING ERRCODE = 'FZ001';
END
$$;
GRANT EXECUTE ON FUNCTION fuzz.check(text, integer) TO PUBLIC;

CREATE FUNCTION fuzz.try(stmt text) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	st text;
	msg text;
BEGIN
	EXECUTE stmt;
	RETURN '00000';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN st || ' ' || replace(msg, E'\n', ' ');
END
$$;

/*
 * Ids that exist, for the generator (which does not see what calls
 * return): the k-th id (from 0) of queue q's table tab ('q', 'dl' or 'a'),
 * the first n of them, and a message's delivery_count.  1, {} and NULL
 * when there is none.
 */
CREATE FUNCTION fuzz._is_table(relname text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(EXISTS (SELECT 1 FROM pg_class c
							 WHERE c.relnamespace = 'queue'::regnamespace
							   AND c.relname = $1 AND c.relkind = 'r'), false)
$$;

CREATE FUNCTION fuzz.id(q text, tab text, k integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r bigint;
BEGIN
	IF NOT fuzz._is_table(tab || '_' || q) THEN
		RETURN 1;
	END IF;
	EXECUTE format('SELECT id FROM queue.%I ORDER BY id OFFSET $1 LIMIT 1', tab || '_' || q)
	   INTO r USING k;
	RETURN coalesce(r, 1);
END
$$;

CREATE FUNCTION fuzz.ids(q text, tab text, n integer) RETURNS bigint[]
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r bigint[];
BEGIN
	IF NOT fuzz._is_table(tab || '_' || q) THEN
		RETURN '{}';
	END IF;
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM queue.%I ORDER BY id LIMIT $1) s',
				   tab || '_' || q)
	   INTO r USING n;
	RETURN coalesce(r, '{}');
END
$$;

CREATE FUNCTION fuzz.dc(q text, msg bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r integer;
BEGIN
	IF NOT fuzz._is_table('q_' || q) THEN
		RETURN NULL;
	END IF;
	EXECUTE format('SELECT delivery_count FROM queue.%I WHERE id = $1', 'q_' || q)
	   INTO r USING msg;
	RETURN r;
END
$$;

/*
 * The fuzzer's real queues: sane options, so that calls on them reach
 * retries, dead letters, the archive, keys, ordering and priorities.
 */
CREATE FUNCTION fuzz.housekeep(p text DEFAULT 'fz') RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text;
	n bigint;
	nq integer;
	other text;
	st text;
	msg text;
	done text[] := '{}';
BEGIN
	/*
	 * Keep every queue small, so that fingerprints stay cheap.  (The noise
	 * sessions drop and alter their queues meanwhile: errors are noted.)
	 */
	FOR q IN SELECT r.queue_name FROM queue.registry r
			  WHERE (r.queue_name LIKE '%fzc\_%') = (p = 'fzc') ORDER BY 1 LOOP
		BEGIN
			EXECUTE format('SELECT count(*) FROM queue.%I', 'q_' || q) INTO n;
			IF n > 150 THEN
				PERFORM queue.purge(q);
				done := done || ('purged ' || q);
			END IF;
			EXECUTE format('SELECT count(*) FROM queue.%I', 'dl_' || q) INTO n;
			IF n > 150 THEN
				PERFORM queue.redrive(q);
				PERFORM queue.purge(q);
				done := done || ('redrove and purged ' || q);
			END IF;
			EXECUTE format('SELECT (SELECT count(*) FROM queue.%I) + (SELECT count(*) FROM queue.%I)'
						   ' + (SELECT count(*) FROM queue.%I)', 'a_' || q, 'k_' || q, 'p_' || q)
			   INTO n;
			IF n > 600 THEN
				PERFORM queue.drop(q);
				done := done || ('dropped ' || q);
			END IF;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			done := done || format('cleanup of %s failed: %s %s', q, st, msg);
		END;
	END LOOP;

	/* at most a dozen queues: drop the surplus ones the fuzzer created */
	SELECT count(*) INTO nq FROM queue.registry r
	 WHERE (r.queue_name LIKE '%fzc\_%') = (p = 'fzc');
	FOR q IN SELECT r.queue_name FROM queue.registry r
			  WHERE (r.queue_name LIKE '%fzc\_%') = (p = 'fzc')
				AND r.queue_name NOT IN (p || '_a', p || '_o', p || '_r', p || '_u', p || '_p')
			  ORDER BY r.created_at LOOP
		EXIT WHEN nq <= 12;
		BEGIN
			PERFORM queue.drop(q);
			done := done || ('dropped ' || q);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
			done := done || format('drop of %s failed: %s %s', q, st, msg);
		END;
		nq := nq - 1;
	END LOOP;
	/*
	 * The real queues.  A queue the fuzzer created may hold a name that
	 * one of theirs needs (queue fz_o_created_at has the table
	 * k_fz_o_created_at, which is the name of an index of fz_o): then drop
	 * such queues and try again.
	 */
	FOREACH q IN ARRAY ARRAY[p || '_a', p || '_o', p || '_r', p || '_u', p || '_p'] LOOP
		FOR attempt IN 1 .. 2 LOOP
			BEGIN
				CASE right(q, 2)
				WHEN '_a' THEN
					PERFORM queue.create(q, visibility_timeout => '1 second', max_deliveries => 3,
										 retry_delay => '10 ms', retry_delay_max => '100 ms',
										 if_not_exists => true);
				WHEN '_o' THEN
					PERFORM queue.create(q, ordered => true, visibility_timeout => '500 ms',
										 max_deliveries => 2, retry_delay => '1 ms', if_not_exists => true);
				WHEN '_r' THEN
					PERFORM queue.create(q, retention => '2 seconds', dedup_window => '3 seconds',
										 visibility_timeout => '2 seconds', if_not_exists => true);
				WHEN '_u' THEN
					PERFORM queue.create(q, unlogged => true, max_deliveries => 0,
										 visibility_timeout => '200 ms', if_not_exists => true);
				WHEN '_p' THEN
					PERFORM queue.create(q, max_deliveries => 1, visibility_timeout => '300 ms',
										 if_not_exists => true);
				END CASE;
				EXIT;
			EXCEPTION WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
				done := done || format('create %s failed: %s %s', q, st, msg);
				FOR other IN SELECT r.queue_name FROM queue.registry r
							  WHERE r.queue_name LIKE q || '\_%' LOOP
					PERFORM queue.drop(other);
					done := done || ('dropped ' || other);
				END LOOP;
			END;
		END LOOP;
	END LOOP;
	BEGIN
		PERFORM queue.bind(p || '_t', p || '_a');
		PERFORM queue.bind(p || '_t', p || '_r');
		PERFORM queue.bind(p || '_t2', p || '_o');
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		done := done || format('bind failed: %s %s', st, msg);
	END;

	RETURN array_to_string(done, ', ');
END
$$;

/*
 * What must hold whatever the fuzzer did: each queue in the registry has
 * its five tables and each q_ table a registry row; a message id is in
 * at most one of the queue, its dead letters and its archive; delivery
 * counts are not negative; bindings name existing queues.  Returns the
 * violations, separated by ' | ', or NULL.
 */
CREATE FUNCTION fuzz.invariants(noise boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text;
	t text;
	n bigint;
	bad text[] := '{}';
BEGIN
	FOR q IN SELECT r.queue_name FROM queue.registry r
			  WHERE noise OR r.queue_name NOT LIKE '%fzc\_%' ORDER BY 1 LOOP
		FOREACH t IN ARRAY ARRAY['q_', 'dl_', 'a_', 'k_', 'p_'] LOOP
			IF to_regclass(format('queue.%I', t || q)) IS NULL THEN
				bad := bad || format('queue %s has no table %s', q, t || q);
			END IF;
		END LOOP;
		CONTINUE WHEN to_regclass(format('queue.%I', 'q_' || q)) IS NULL
				   OR to_regclass(format('queue.%I', 'dl_' || q)) IS NULL
				   OR to_regclass(format('queue.%I', 'a_' || q)) IS NULL;
		EXECUTE format('SELECT count(*) FROM queue.%I m JOIN queue.%I d USING (id)',
					   'q_' || q, 'dl_' || q) INTO n;
		IF n > 0 THEN
			bad := bad || format('queue %s: %s ids both queued and dead', q, n);
		END IF;
		EXECUTE format('SELECT count(*) FROM queue.%I m JOIN queue.%I d USING (id)',
					   'q_' || q, 'a_' || q) INTO n;
		IF n > 0 THEN
			bad := bad || format('queue %s: %s ids both queued and archived', q, n);
		END IF;
		EXECUTE format('SELECT count(*) FROM queue.%I m JOIN queue.%I d USING (id)',
					   'dl_' || q, 'a_' || q) INTO n;
		IF n > 0 THEN
			bad := bad || format('queue %s: %s ids both dead and archived', q, n);
		END IF;
		EXECUTE format('SELECT count(*) FROM queue.%I WHERE delivery_count < 0', 'q_' || q)
		   INTO n;
		IF n > 0 THEN
			bad := bad || format('queue %s: %s messages with a negative delivery_count', q, n);
		END IF;
	END LOOP;
	FOR t IN SELECT c.relname FROM pg_class c
			  WHERE c.relnamespace = 'queue'::regnamespace AND c.relkind IN ('r', 'p')
				AND c.relname LIKE 'q\_%'
				AND (noise OR c.relname NOT LIKE '%fzc\_%')
				AND NOT EXISTS (SELECT 1 FROM queue.registry r
								 WHERE 'q_' || r.queue_name = c.relname) LOOP
		bad := bad || format('table queue.%I belongs to no queue', t);
	END LOOP;
	FOR t IN SELECT b.topic || ' -> ' || b.queue_name FROM queue.bindings b
			  WHERE (noise OR b.queue_name NOT LIKE '%fzc\_%')
				AND NOT EXISTS (SELECT 1 FROM queue.registry r
								 WHERE r.queue_name = b.queue_name) LOOP
		bad := bad || format('binding %s names no queue', t);
	END LOOP;
	IF cardinality(bad) = 0 THEN
		RETURN NULL;
	END IF;
	RETURN array_to_string(bad, ' | ');
END
$$;
GRANT EXECUTE ON FUNCTION fuzz.invariants(boolean) TO PUBLIC;
