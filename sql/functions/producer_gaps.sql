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

COMMENT ON FUNCTION queue.producer_gaps(text) IS
'The producer sequence numbers never received between each producer''s lowest and highest, as inclusive ranges. Needs consume.';
