CREATE FUNCTION queue.ack(queue_name text, id bigint, receipt integer DEFAULT NULL)
RETURNS boolean
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_ack';

CREATE FUNCTION queue.ack(queue_name text, ids bigint[])
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'queue_ack_array';

COMMENT ON FUNCTION queue.ack(text, bigint, integer) IS
'Delete (or archive) a message handed out; with a receipt (its delivery_count), false if it was handed to someone else since. Needs consume.';
COMMENT ON FUNCTION queue.ack(text, bigint[]) IS
'Ack several messages; returns how many were acked. Needs consume.';
