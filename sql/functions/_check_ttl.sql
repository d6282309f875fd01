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

COMMENT ON FUNCTION queue._check_ttl(interval) IS
'Internal: a message_ttl as create and alter take it (0: none; 22023 negative or over 100 years).';
