/*
 * queue 0.3.0 -> 0.4.0
 *
 * (Sections are added as the changes of 0.4.0 land; each says what it
 * changes.)
 *
 * The install script of 0.4.0 is sql/queue.sql, and test/t/009_upgrade.pl
 * checks that an updated database has the same objects as a fresh one.
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.4.0'" to load this file. \quit
