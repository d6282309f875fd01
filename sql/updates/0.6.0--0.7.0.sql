/*
 * Update from 0.6.0 to 0.7.0: the source of sql/queue--0.6.0--0.7.0.sql
 * (tools/assemble --replace).  What changed in the tables and what is
 * gone is written here; then every function and view is recreated as a
 * fresh install has it.  test/t/009_upgrade.pl checks that the result is
 * the same as a fresh install.
 *
 * Copyright (c) 2026, the queue authors
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.7.0'" to load this file. \quit

/* _on_all_nodes runs one of three views now, not a query it is given */
DROP FUNCTION queue._on_all_nodes(text);

\ir ../functions.sql

\ir ../views.sql

/* The name rule of the catalog's CHECK constraints is the C one now. */
ALTER TABLE queue.registry DROP CONSTRAINT registry_queue_name_check;
ALTER TABLE queue.registry ADD CONSTRAINT registry_queue_name_check
	CHECK (queue._valid_name(queue_name));
ALTER TABLE queue.bindings DROP CONSTRAINT bindings_topic_check;
ALTER TABLE queue.bindings ADD CONSTRAINT bindings_topic_check
	CHECK (queue._valid_name(topic));
