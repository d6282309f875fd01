/* The longest span of an option, 100 years (QUEUE_MAX_SPAN_YEARS in
 * src/queue.h, which the backoff of nack is capped at too). */
CREATE FUNCTION queue._max_span()
RETURNS interval
LANGUAGE c IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_max_span_sql';

COMMENT ON FUNCTION queue._max_span() IS
'Internal: the longest span of a queue option, 100 years (QUEUE_MAX_SPAN_YEARS in the library).';
