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

/* ---------------------------------------------------------------------
 * Comments: \df+ queue.* explains every function (0.4.0).  The same block
 * ends sql/queue--0.3.0--0.4.0.sql; test/pgtap/comments.sql checks that
 * every function of the schema has one, test/t/020_comments.pl that an
 * updated database has the same as a fresh one.
 * ---------------------------------------------------------------------
 */

-- The API
COMMENT ON FUNCTION queue."create"(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean) IS
'Create a queue and its tables (q_, dl_, a_, k_, p_<name>); the creator gets manage on it. Needs CREATE on schema queue.';
COMMENT ON FUNCTION queue."alter"(text, interval, integer, interval, interval, interval, interval, boolean, boolean) IS
'Change the options of a queue; NULL keeps an option as it is. Needs manage.';
COMMENT ON FUNCTION queue."drop"(text, boolean) IS
'Drop a queue with its messages, dead letters and archive; false if it did not exist and if_exists. Needs manage.';
COMMENT ON FUNCTION queue.purge(text) IS
'Delete every message of a queue (not its dead letters); returns how many. Needs manage.';
COMMENT ON FUNCTION queue.send(text, jsonb, jsonb, interval, text, text, integer, text, bigint) IS
'Send one message in the caller''s transaction; returns its id (the first id again for a repeated idempotency key or producer sequence). Needs send.';
COMMENT ON FUNCTION queue.send_batch(text, jsonb[], jsonb[], interval, text[], text[], integer) IS
'Send several messages in one call; returns their ids in input order. Needs send.';
COMMENT ON FUNCTION queue.read(text, integer, interval, interval) IS
'Hand out up to quantity visible messages, hidden for the visibility timeout; with wait, sleep until a send commits (long poll). Skips locked rows. Needs consume.';
COMMENT ON FUNCTION queue.pop(text, integer) IS
'Read and delete up to quantity messages in one step (at-most-once). Needs consume.';
COMMENT ON FUNCTION queue.ack(text, bigint, integer) IS
'Delete (or archive) a message handed out; with a receipt (its delivery_count), false if it was handed to someone else since. Needs consume.';
COMMENT ON FUNCTION queue.ack(text, bigint[]) IS
'Ack several messages; returns how many were acked. Needs consume.';
COMMENT ON FUNCTION queue.nack(text, bigint, interval, text, integer) IS
'Give a message back: visible again after delay (default: the queue''s backoff), or to the dead letters with reason at max_deliveries. Needs consume.';
COMMENT ON FUNCTION queue.extend(text, bigint, interval, integer) IS
'Keep a message hidden for visibility_timeout more from now (a heartbeat for long work); returns the new visible_at. Needs consume.';
COMMENT ON FUNCTION queue.dead_letters(text, integer) IS
'List up to quantity dead letters of a queue, with why they died. Needs consume.';
COMMENT ON FUNCTION queue.redrive(text, integer, bigint[]) IS
'Move dead letters back into the queue (all, the first quantity, or the given ids) with delivery_count 0; returns how many. Needs manage.';
COMMENT ON FUNCTION queue.stats(text) IS
'One row per queue: ready, in flight, delayed, dead, archived, oldest ready age, sent/acked/dead totals. Without an argument, every queue the caller may consume from.';
COMMENT ON FUNCTION queue.bind(text, text) IS
'Bind a queue to a topic: queue.publish to the topic sends it a copy. Needs manage on the queue.';
COMMENT ON FUNCTION queue.unbind(text, text) IS
'Unbind a queue from a topic; false if it was not bound. Needs manage on the queue.';
COMMENT ON FUNCTION queue.publish(text, jsonb, jsonb, interval, text, text) IS
'Send a copy of a message to every queue bound to the topic, in the caller''s transaction; returns how many queues got one. Needs send on each.';
COMMENT ON FUNCTION queue.producer_gaps(text) IS
'The producer sequence numbers never received between each producer''s lowest and highest, as inclusive ranges. Needs consume.';
COMMENT ON FUNCTION queue."grant"(text, name, text) IS
'Grant a role send, consume or manage on a queue. Needs manage.';
COMMENT ON FUNCTION queue."revoke"(text, name, text) IS
'Revoke send, consume or manage on a queue from a role (what its other privileges include stays). Needs manage.';

-- Internal: called by the functions above and by the worker
COMMENT ON FUNCTION queue._check_name(text, text) IS
'Internal: raise 22023 unless the name matches ^[a-z_][a-z0-9_]{0,47}$.';
COMMENT ON FUNCTION queue._check_access(text, text) IS
'Internal: raise 42704 unless the queue exists, 42501 unless the caller holds the privilege (send, consume or manage) on it.';
COMMENT ON FUNCTION queue._invalidate(text) IS
'Internal: make every backend drop its cached options and plans of a queue at commit (alter).';
COMMENT ON FUNCTION queue._totals(oid) IS
'Internal: the shared-memory sent/acked/dead counters of a message table; NULLs without the preload.';
COMMENT ON FUNCTION queue._reset_totals(oid) IS
'Internal: start a new queue''s counters from zero (create).';
COMMENT ON FUNCTION queue._count_visible(oid, bigint) IS
'Internal: note messages made visible (redrive), to wake long polls at commit.';
COMMENT ON FUNCTION queue._has_sleepers(oid) IS
'Internal: whether readers may be asleep in a long poll on a message table (worker).';
COMMENT ON FUNCTION queue._wake(oid) IS
'Internal: wake every long poll of a message table (worker, when messages came due).';
COMMENT ON FUNCTION queue._depend_on_extension(regclass) IS
'Internal: make a queue table depend on the extension, so that DROP EXTENSION sees it.';
COMMENT ON FUNCTION queue._check_options(interval, integer, interval, interval, interval, interval) IS
'Internal: raise 22023 for a bad queue option (create, alter).';
COMMENT ON FUNCTION queue._lock_queue(text) IS
'Internal: raise 42704 unless the queue exists; lock and return its registry row.';
COMMENT ON FUNCTION queue._create_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean, boolean, oid) IS
'Internal: the work of queue.create, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._alter_impl(text, interval, integer, interval, interval, interval, interval, boolean, boolean) IS
'Internal: the work of queue.alter, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._drop_impl(text, boolean) IS
'Internal: the work of queue.drop, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._purge_impl(text) IS
'Internal: the work of queue.purge, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._redrive_impl(text, integer, bigint[]) IS
'Internal: the work of queue.redrive, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._stats(text) IS
'Internal: the rows of queue.stats for one queue, or (NULL) every queue the caller may consume from.';
COMMENT ON FUNCTION queue._preloaded() IS
'Internal: whether the library was loaded by shared_preload_libraries.';
COMMENT ON FUNCTION queue._worker_wake() IS
'Internal: ask the launcher to start this database''s worker once the transaction commits (CREATE EXTENSION).';
COMMENT ON FUNCTION queue._failed_deliveries(integer) IS
'Internal (worker): take the pending failed deliveries (reads rolled back) of up to max messages of this database.';
COMMENT ON FUNCTION queue._requeue_failure(oid, bigint, integer) IS
'Internal (worker): give failed deliveries back for a later step, while the message is handed out or locked.';
COMMENT ON FUNCTION queue._sweep_at(oid, timestamptz) IS
'Internal (worker): make a queue''s dead-letter sweep due at a time, unless it is due earlier, at commit.';
COMMENT ON FUNCTION queue._full_pass_due() IS
'Internal (worker): whether this step visits every queue (always outside the background worker, once a minute in it).';
COMMENT ON FUNCTION queue._due_queues(oid[], boolean) IS
'Internal (worker): the queues this step visits, and for what (bits: 1 sweep, 2 housekeeping, 4 wake, 8 compact).';
COMMENT ON FUNCTION queue._rewind(oid, bigint, boolean) IS
'Internal: at commit, reads must look at a queue''s rows from id again (its read position moves back).';
COMMENT ON FUNCTION queue._count_dead(oid, bigint) IS
'Internal (worker): count messages dead-lettered, at commit.';
COMMENT ON FUNCTION queue._worker_status() IS
'Internal: what each database''s worker did (behind the view queue.worker_status).';
COMMENT ON FUNCTION queue._worker_step(integer) IS
'Internal: one step of the background worker (failed deliveries, dead letters, retention, keys and producers forgotten, compaction, wakeups), at most batch rows per queue and part.';
COMMENT ON FUNCTION queue._bind_impl(text, text) IS
'Internal: the work of queue.bind, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._unbind_impl(text, text) IS
'Internal: the work of queue.unbind, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._grant_tables(text, regrole, text) IS
'Internal: grant a role the table privileges that make up send, consume or manage on a queue.';
COMMENT ON FUNCTION queue._grantee(text, name, text) IS
'Internal: look up the role of grant and revoke (42704 if none, 22023 for an unknown privilege); NULL for the tables'' owner.';
COMMENT ON FUNCTION queue._grant_impl(text, name, text) IS
'Internal: the work of queue.grant, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._revoke_impl(text, name, text) IS
'Internal: the work of queue.revoke, run as the extension''s owner; not executable by PUBLIC.';
COMMENT ON FUNCTION queue._guard_schema() IS
'Internal: event trigger function; refuses objects created in schema queue by anyone but the extension''s owner and superusers.';
