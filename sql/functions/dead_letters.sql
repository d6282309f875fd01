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
	PERFORM queue._check_access(queue_name, 'consume'::pg_catalog.text);
	IF quantity IS NULL OR quantity OPERATOR(pg_catalog.<) 1
	   OR quantity OPERATOR(pg_catalog.>) current_setting('queue.max_batch')::integer THEN
		RAISE EXCEPTION 'quantity must be between 1 and %, not %',
			current_setting('queue.max_batch'), coalesce(quantity::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'The upper limit is the setting queue.max_batch.';
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT id, body, headers, delivery_count, enqueued_at, dead_at, reason, '
		'       group_key, idempotency_key '
		'  FROM queue.%I ORDER BY id LIMIT $1', 'dl_' || queue_name)
		USING quantity;
END
$$;

COMMENT ON FUNCTION queue.dead_letters(text, integer) IS
'List up to quantity dead letters of a queue, with why they died. Needs consume.';
