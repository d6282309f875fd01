/* Raise 42704 unless the queue exists, 42501 unless the caller holds the
 * privilege ('send', 'consume' or 'manage') on it (src/acl.c). */
CREATE FUNCTION queue._check_access(queue_name text, privilege text)
RETURNS void
LANGUAGE c STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'queue_check_access_sql';

COMMENT ON FUNCTION queue._check_access(text, text) IS
'Internal: raise 42704 unless the queue exists, 42501 unless the caller holds the privilege (send, consume or manage) on it.';
