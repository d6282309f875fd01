-- test/pgtap/comments.sql -- every function of schema queue explains itself
-- in \df+ queue.*: each has a COMMENT ON FUNCTION (its file in sql/functions/
-- has it), the API's in plain words, the internal ones (name starting with
-- '_') marked Internal.
--
-- Run: pg_prove -h HOST -p PORT -U USER -d DB test/pgtap/comments.sql

\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS queue;

BEGIN;
SELECT plan(5);

CREATE TEMP VIEW queue_functions AS
	SELECT p.oid::regprocedure::text AS signature, p.proname::text AS name,
		   obj_description(p.oid, 'pg_proc') AS comment
	  FROM pg_proc p
	 WHERE p.pronamespace = 'queue'::regnamespace;

SELECT cmp_ok((SELECT count(*)::int FROM queue_functions), '>=', 56,
			  'schema queue has its functions');

SELECT is((SELECT coalesce(array_agg(signature ORDER BY signature), '{}')
			 FROM queue_functions WHERE comment IS NULL OR btrim(comment) = ''),
		  '{}'::text[], 'every function in schema queue has a comment');

SELECT is((SELECT coalesce(array_agg(signature ORDER BY signature), '{}')
			 FROM queue_functions
			WHERE name LIKE '\_%' AND comment NOT LIKE 'Internal%'),
		  '{}'::text[], 'the comment of every internal function says Internal');

SELECT is((SELECT coalesce(array_agg(signature ORDER BY signature), '{}')
			 FROM queue_functions
			WHERE name NOT LIKE '\_%' AND comment LIKE 'Internal%'),
		  '{}'::text[], 'no function of the API is called internal');

SELECT is((SELECT comment FROM queue_functions
			WHERE signature = 'queue.read(text,integer,interval,interval)'),
		  'Hand out up to quantity visible messages, hidden for the visibility timeout; with wait, sleep until a send commits (long poll). Skips locked rows. Needs consume.',
		  'queue.read says what it does');

SELECT * FROM finish();
ROLLBACK;
