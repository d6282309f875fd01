/* Whether the caller holds any privilege on a queue; false for a queue
 * dropped meanwhile. */
CREATE FUNCTION queue._may_see(queue_name text)
RETURNS boolean
LANGUAGE c STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_may_see';

COMMENT ON FUNCTION queue._may_see(text) IS
'Internal: whether the caller holds any privilege on a queue (the filter of queue.queues); false for a queue that is gone.';
