CREATE FUNCTION queue.publish(topic text, body jsonb, headers jsonb DEFAULT NULL,
							  delay interval DEFAULT NULL,
							  idempotency_key text DEFAULT NULL,
							  group_key text DEFAULT NULL,
							  ttl interval DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	q text;
	n integer := 0;
BEGIN
	PERFORM queue._check_name(topic, 'topic name'::pg_catalog.text);
	PERFORM queue._one_node('publish');
	FOREACH q IN ARRAY queue._bound_queues(topic)
	LOOP
		PERFORM queue.send(q, body, headers, delay, idempotency_key, group_key, ttl => ttl);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;

COMMENT ON FUNCTION queue.publish(text, jsonb, jsonb, interval, text, text, interval) IS
'Send a copy of a message to every queue bound to the topic, in the caller''s transaction; returns how many queues got one. Needs send on each.';
