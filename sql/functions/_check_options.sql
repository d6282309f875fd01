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

COMMENT ON FUNCTION queue._check_options(interval, integer, interval, interval, interval, interval) IS
'Internal: raise 22023 for a bad queue option (create, alter).';
