/* Each bound queue gets its own copy, in the publisher's transaction. */
/* The queues bound to a topic, once the caller holds send on each (42501
 * for the first it does not): the bindings are read as the extension's
 * owner (src/acl.c). */
CREATE FUNCTION queue._bound_queues(topic text)
RETURNS text[]
LANGUAGE c VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_bound_queues';

COMMENT ON FUNCTION queue._bound_queues(text) IS
'Internal: the queues bound to a topic, read as the extension''s owner, once the caller holds send on each (for queue.publish).';
