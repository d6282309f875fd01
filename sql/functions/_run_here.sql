/* Always true, and volatile: the planner hook (src/placement.c) adds it as
 * a WHERE clause to keep Citus from routing a call whose queue name is
 * NULL (Citus 13.2 would crash hashing it); the call then runs here. */
CREATE FUNCTION queue._run_here()
RETURNS boolean
LANGUAGE c VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_run_here';

COMMENT ON FUNCTION queue._run_here() IS
'Internal: always true; the planner hook adds it as a WHERE clause so that Citus does not route a call whose queue name is NULL.';
