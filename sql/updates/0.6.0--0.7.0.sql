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

\ir ../functions.sql

\ir ../views.sql
