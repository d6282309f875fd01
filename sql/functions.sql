/*
 * sql/functions.sql: every function of the extension, one file each in
 * sql/functions/ (overloads share one), with its comment and, for the
 * internal ones, the revoke of EXECUTE from PUBLIC.  In the order they are
 * created: the install script (sql/queue.sql) and every update script
 * (sql/updates/) include this list, so an update recreates every function
 * as a fresh install has it (tools/assemble makes it CREATE OR REPLACE).
 *
 * Copyright (c) 2026, the queue authors
 */

\ir functions/has_queue_privilege.sql
\ir functions/_may_see.sql

/* ---------------------------------------------------------------------
 * Internal helpers (C)
 * ---------------------------------------------------------------------
 */
\ir functions/_check_name.sql
\ir functions/_valid_name.sql
\ir functions/_check_access.sql
\ir functions/_invalidate.sql
\ir functions/_reset_totals.sql
\ir functions/_count_visible.sql
\ir functions/_has_sleepers.sql
\ir functions/_wake.sql
\ir functions/_depend_on_extension.sql
\ir functions/_max_span.sql
\ir functions/_check_options.sql

/* ---------------------------------------------------------------------
 * Queues on the nodes of a Citus cluster (README "Past one server",
 * DESIGN.md section 10).  Citus's own objects are reached through EXECUTE:
 * they exist only where Citus is installed.
 * ---------------------------------------------------------------------
 */
\ir functions/_routed.sql
\ir functions/_not_here.sql
\ir functions/_one_node.sql
\ir functions/_placement_shard_check.sql
\ir functions/_run_here.sql
\ir functions/_lock_queue.sql

/* ---------------------------------------------------------------------
 * Managing queues
 * ---------------------------------------------------------------------
 */
\ir functions/_check_ttl.sql
\ir functions/_expire_at.sql
\ir functions/_note_expiry.sql
\ir functions/_expiry_headers.sql
\ir functions/_expiry_headers_clear.sql
\ir functions/_dead_letter.sql
\ir functions/_group_limit.sql
\ir functions/_check_dead_letter_queue.sql
\ir functions/_forward_dead.sql
\ir functions/_create_impl.sql
\ir functions/create.sql
\ir functions/_alter_impl.sql
\ir functions/alter.sql
\ir functions/_drop_impl.sql
\ir functions/drop.sql
\ir functions/_purge_impl.sql
\ir functions/purge.sql
\ir functions/_pause_impl.sql
\ir functions/pause.sql
\ir functions/_resume_impl.sql
\ir functions/resume.sql
\ir functions/send.sql
\ir functions/send_batch.sql
\ir functions/read.sql
\ir functions/pop.sql
\ir functions/ack.sql
\ir functions/nack.sql
\ir functions/extend.sql
\ir functions/dead_letters.sql
\ir functions/_redrive_impl.sql
\ir functions/redrive.sql

/* ---------------------------------------------------------------------
 * Observing
 * ---------------------------------------------------------------------
 */
\ir functions/_count.sql
\ir functions/_measured.sql
\ir functions/_set_measured.sql
\ir functions/_stats.sql
\ir functions/stats.sql

/* ---------------------------------------------------------------------
 * Health (issue 13)
 * ---------------------------------------------------------------------
 */
\ir functions/_space.sql
\ir functions/_sleepers.sql
\ir functions/_health.sql
\ir functions/health.sql
\ir functions/_preloaded.sql
\ir functions/_worker_wake.sql
\ir functions/_failed_deliveries.sql
\ir functions/_requeue_failure.sql
\ir functions/_sweep_at.sql
\ir functions/_full_pass_due.sql
\ir functions/_due_queues.sql
\ir functions/_rewind.sql
\ir functions/_count_dead.sql
\ir functions/_worker_status.sql
\ir functions/_step_failures.sql
\ir functions/_step_dead_letters.sql
\ir functions/_step_delete.sql
\ir functions/_step_archive.sql
\ir functions/_step_forget.sql
\ir functions/_step_expire.sql
\ir functions/_step_measure.sql
\ir functions/_step_compact.sql
\ir functions/_step_wake.sql
\ir functions/_worker_step.sql
\ir functions/_bind_impl.sql
\ir functions/bind.sql
\ir functions/_unbind_impl.sql
\ir functions/unbind.sql
\ir functions/_bound_queues.sql
\ir functions/publish.sql

/* ---------------------------------------------------------------------
 * Loss detection
 * ---------------------------------------------------------------------
 */
\ir functions/producer_gaps.sql

/* ---------------------------------------------------------------------
 * Past one server: queues on the nodes of a Citus cluster
 * ---------------------------------------------------------------------
 */
\ir functions/citus_distribute.sql
\ir functions/_on_all_nodes.sql
\ir functions/cluster_queues.sql
\ir functions/cluster_stats.sql
\ir functions/cluster_worker_status.sql

/* ---------------------------------------------------------------------
 * Privileges (src/acl.c)
 * ---------------------------------------------------------------------
 */
\ir functions/_grant_tables.sql
\ir functions/_forget_unanchored.sql
\ir functions/_on_drop_owned.sql
\ir functions/_grantee.sql
\ir functions/_grant_impl.sql
\ir functions/_revoke_impl.sql
\ir functions/grant.sql
\ir functions/revoke.sql
\ir functions/_guard_schema.sql
