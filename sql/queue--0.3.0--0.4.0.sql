/*
 * queue 0.3.0 -> 0.4.0
 *
 * Deliveries that survive a crash (src/journal.c): a read journals what it
 * handed out, and after a crash the deliveries of interrupted transactions
 * come back as "the count should be at least N".  queue._failed_deliveries
 * returns that as a new column at_least, queue._requeue_failure takes it
 * back, and the worker step raises delivery_count with it.
 *
 * The install script of 0.4.0 is sql/queue.sql, and test/t/009_upgrade.pl
 * checks that an updated database has the same objects as a fresh one.
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.4.0'" to load this file. \quit

-- a column more in the result: drop and create
DROP FUNCTION queue._failed_deliveries(integer);
DROP FUNCTION queue._requeue_failure(oid, bigint, integer);

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

CREATE OR REPLACE FUNCTION queue._worker_step(batch integer,
	OUT dead_lettered bigint, OUT purged bigint, OUT forgotten bigint,
	OUT failures_counted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
	dq record;
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
					'WITH dead AS ('
					'  DELETE FROM queue.%1$I m WHERE m.id IN ('
					'    SELECT id FROM queue.%1$I'
					'     WHERE delivery_count >= $1 AND visible_at <= clock_timestamp()'
					'     ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)'
					'  RETURNING m.id, m.body, m.headers, m.delivery_count, m.enqueued_at,'
					'            m.group_key, m.idempotency_key, m.priority) '
					', gone AS ('
					'INSERT INTO queue.%2$I (id, body, headers, delivery_count, enqueued_at,'
					'                        reason, group_key, idempotency_key, priority) '
					'SELECT id, body, headers, delivery_count, enqueued_at, $3, group_key,'
					'       idempotency_key, priority FROM dead'
					'  RETURNING id) '
					'SELECT count(*), min(id) FROM gone',
					'q_' || r.queue_name, 'dl_' || r.queue_name)
					INTO n, lowest
					USING r.max_deliveries, batch,
						  format('delivered %s times without an ack', r.max_deliveries);
				IF n OPERATOR(pg_catalog.>) 0 THEN
					dead_lettered := dead_lettered + n;
					PERFORM queue._count_dead(relid, n);
					/* ordered: the next messages of their groups are free */
					IF r.ordered THEN
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
			 * A table left mostly free space by a held snapshot or a
			 * backlog, now drained and vacuumed: rewrite it, which gives
			 * the space back (its lock is waited for lock_timeout at most).
			 */
			IF (dq.due OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 THEN
				EXECUTE format('CLUSTER queue.%I USING %I', 'q_' || r.queue_name,
							   'qpk_' || r.queue_name);
				RAISE LOG 'queue: compacted the message table of queue "%"', r.queue_name;
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
				RAISE WARNING 'queue: worker step on queue "%" failed: %', r.queue_name, SQLERRM
					USING ERRCODE = SQLSTATE;
		END;
	END LOOP;
END
$$;

REVOKE ALL ON FUNCTION
	queue._failed_deliveries(integer),
	queue._requeue_failure(oid, bigint, integer, integer)
FROM PUBLIC;
/* ---------------------------------------------------------------------
 * Comments: \df+ queue.* explains every function (0.4.0).  The same block
 * ends sql/queue--0.3.0--0.4.0.sql; test/pgtap/comments.sql checks that
 * every function of the schema has one, test/t/020_comments.pl that an
 * updated database has the same as a fresh one.
 * ---------------------------------------------------------------------
 */

-- The API
COMMENT ON FUNCTION queue."create"(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean) IS
'Create a queue and its tables (q_, dl_, a_, k_, p_<name>); the creator gets manage on it. Needs CREATE on schema queue.';
COMMENT ON FUNCTION queue."alter"(text, interval, integer, interval, interval, interval, interval, boolean, boolean) IS
'Change the options of a queue; NULL keeps an option as it is. Needs manage.';
COMMENT ON FUNCTION queue."drop"(text, boolean) IS
'Drop a queue with its messages, dead letters and archive; false if it did not exist and if_exists. Needs manage.';
COMMENT ON FUNCTION queue.purge(text) IS
'Delete every message of a queue (not its dead letters); returns how many. Needs manage.';
COMMENT ON FUNCTION queue.send(text, jsonb, jsonb, interval, text, text, integer, text, bigint) IS
'Send one message in the caller''s transaction; returns its id (the first id again for a repeated idempotency key or producer sequence). Needs send.';
COMMENT ON FUNCTION queue.send_batch(text, jsonb[], jsonb[], interval, text[], text[], integer) IS
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
COMMENT ON FUNCTION queue.stats(text) IS
'One row per queue: ready, in flight, delayed, dead, archived, oldest ready age, sent/acked/dead totals. Without an argument, every queue the caller may consume from.';
COMMENT ON FUNCTION queue.bind(text, text) IS
'Bind a queue to a topic: queue.publish to the topic sends it a copy. Needs manage on the queue.';
COMMENT ON FUNCTION queue.unbind(text, text) IS
'Unbind a queue from a topic; false if it was not bound. Needs manage on the queue.';
COMMENT ON FUNCTION queue.publish(text, jsonb, jsonb, interval, text, text) IS
'Send a copy of a message to every queue bound to the topic, in the caller''s transaction; returns how many queues got one. Needs send on each.';
COMMENT ON FUNCTION queue.producer_gaps(text) IS
'The producer sequence numbers never received between each producer''s lowest and highest, as inclusive ranges. Needs consume.';
COMMENT ON FUNCTION queue."grant"(text, name, text) IS
'Grant a role send, consume or manage on a queue. Needs manage.';
COMMENT ON FUNCTION queue."revoke"(text, name, text) IS
'Revoke send, consume or manage on a queue from a role (what its other privileges include stays). Needs manage.';

-- Internal: called by the functions above and by the worker
COMMENT ON FUNCTION queue._check_name(text, text) IS
'Internal: raise 22023 unless the name matches ^[a-z_][a-z0-9_]{0,47}$.';
COMMENT ON FUNCTION queue._check_access(text, text) IS
'Internal: raise 42704 unless the queue exists, 42501 unless the caller holds the privilege (send, consume or manage) on it.';
COMMENT ON FUNCTION queue._invalidate(text) IS
'Internal: make every backend drop its cached options and plans of a queue at commit (alter).';
COMMENT ON FUNCTION queue._totals(oid) IS
'Internal: the shared-memory sent/acked/dead counters of a message table; NULLs without the preload.';
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
COMMENT ON FUNCTION queue._create_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, oid) IS
'Internal: the work of queue.create, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._alter_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean) IS
'Internal: the work of queue.alter, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._drop_impl(text, boolean) IS
'Internal: the work of queue.drop, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._purge_impl(text) IS
'Internal: the work of queue.purge, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._redrive_impl(text, integer, bigint[]) IS
'Internal: the work of queue.redrive, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._stats(text) IS
'Internal: the rows of queue.stats for one queue, or (NULL) every queue the caller may consume from.';
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
'Internal: grant a role the table privileges that make up send, consume or manage on a queue.';
COMMENT ON FUNCTION queue._grantee(text, name, text) IS
'Internal: look up the role of grant and revoke (42704 if none, 22023 for an unknown privilege); NULL for the tables'' owner.';
COMMENT ON FUNCTION queue._grant_impl(text, name, text) IS
'Internal: the work of queue.grant, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._revoke_impl(text, name, text) IS
'Internal: the work of queue.revoke, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._guard_schema() IS
'Internal: event trigger function; refuses objects created in schema queue by anyone but the extension''s owner and superusers.';
