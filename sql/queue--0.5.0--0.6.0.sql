/*
 * queue 0.5.0 -> 0.6.0
 *
 * The install script of 0.6.0 is sql/queue.sql, and test/t/009_upgrade.pl
 * checks that an updated database has the same objects as a fresh one.
 */

\echo Use "ALTER EXTENSION queue UPDATE TO '0.6.0'" to load this file. \quit
