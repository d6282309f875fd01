CREATE FUNCTION queue.redrive(queue_name text, quantity integer DEFAULT NULL,
							  ids bigint[] DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_redrive';

COMMENT ON FUNCTION queue.redrive(text, integer, bigint[]) IS
'Move dead letters back into the queue (all, the first quantity, or the given ids) with delivery_count 0; returns how many. Needs manage.';
