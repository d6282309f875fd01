/* The event trigger's function: runs _forget_unanchored as the owner,
 * who may write the catalog (src/acl.c). */
CREATE FUNCTION queue._on_drop_owned()
RETURNS event_trigger
LANGUAGE c
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_on_drop_owned';

COMMENT ON FUNCTION queue._on_drop_owned() IS
'Internal: event trigger function on DROP OWNED; forgets the queue privileges of the roles it took the anchor from.';

REVOKE EXECUTE ON FUNCTION queue._on_drop_owned() FROM PUBLIC;
