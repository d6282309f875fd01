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
			USING ERRCODE = 'invalid_parameter_value';
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

COMMENT ON FUNCTION queue._health(interval, interval) IS
'Internal: the findings of queue.health, unordered.';
