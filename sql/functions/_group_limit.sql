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

COMMENT ON FUNCTION queue._group_limit(boolean, integer, integer) IS
'Internal: the max_in_flight_per_group a queue gets from create''s or alter''s ordered and max_in_flight_per_group (22023 when they disagree).';
