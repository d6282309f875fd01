/*
 * Forget the rows of queue.grants that count for nothing any more: of
 * roles that DROP OWNED took the anchor (SELECT on the queue's id
 * sequence) from.  Called by the event trigger on DROP OWNED (so that DROP
 * ROLE may follow without leaving a row that names no role) and by grant
 * and revoke.
 */
CREATE FUNCTION queue._forget_unanchored()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM queue.grants g
	 WHERE NOT EXISTS (
		SELECT 1
		  FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		 WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.pg_get_serial_sequence(
					format('queue.%I', 'q_' OPERATOR(pg_catalog.||) g.queue_name), 'id')::pg_catalog.regclass
		   AND a.grantee OPERATOR(pg_catalog.=) g.grantee::oid
		   AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT');
END
$$;

COMMENT ON FUNCTION queue._forget_unanchored() IS
'Internal: delete the rows of queue.grants whose grantee no longer holds the anchor (SELECT on the queue''s id sequence), as after DROP OWNED.';

REVOKE EXECUTE ON FUNCTION queue._forget_unanchored() FROM PUBLIC;
