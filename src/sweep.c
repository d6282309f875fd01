/*-------------------------------------------------------------------------
 *
 * sweep.c
 *		Each queue's schedule for the worker: when its dead-letter sweep is
 *		due, whether its housekeeping tables may hold rows, when one of its
 *		messages may expire.
 *
 * The schedule (QueueSchedule, queue.h) is part of the queue's shared slot
 * (counters.c), which claims and resets it, and adds at commit what a
 * transaction noted for it (queue_note_sweep, queue_note_expiry).  Which
 * queues a worker step visits, given these, is schedule.c's.
 *
 * A queue's dead-letter sweep is due at sweep_due, so that the worker does
 * not scan every queue's table every step.  Only a message handed out for
 * the last time (its delivery_count reaches max_deliveries) can be
 * dead-lettered by the worker: reads note when such a delivery's
 * visibility timeout runs out, and add it at commit, after the new row
 * version is visible to others.  The worker takes a due time
 * (queue_sweep_take, through queue._due_queues), sweeps, and puts back
 * when the last-chance messages still in flight come due (queue._sweep_at,
 * also at commit, as is queue.alter's request for a sweep: until then only
 * the transaction itself sees it).  A taken time is replaced by the
 * minimum, so a note made meanwhile is not lost.  A delivery whose
 * transaction rolls back is counted as a failure, and the worker sweeps a
 * queue where that made a message reach max_deliveries; a queue without a
 * slot (after a restart, or with the table full) is always due.  As a
 * backstop for what no note tells (rows changed behind the API, a prepared
 * transaction's last delivery), every queue is swept at least once a
 * minute, unless nothing was written to its table since its last sweep.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "queue.h"

/* every queue is swept at least this often (microseconds) */
#define SWEEP_BACKSTOP_USECS	(60 * USECS_PER_SEC)

/*
 * Sweeps taken by this transaction (queue_sweep_take): if it rolls back,
 * or the subtransaction that took one does, the sweep is due again.
 */
typedef struct TakenSweep
{
	QueueSchedule *schedule;
	int			nest_level;
} TakenSweep;

static TakenSweep *taken = NULL;
static int	ntaken = 0;
static int	maxtaken = 0;

static void time_min(pg_atomic_uint64 *var, TimestampTz at);

PG_FUNCTION_INFO_V1(queue_sweep_at_sql);
PG_FUNCTION_INFO_V1(queue_sweep_take_sql);
PG_FUNCTION_INFO_V1(queue_expire_at_sql);
PG_FUNCTION_INFO_V1(queue_note_expiry_sql);
PG_FUNCTION_INFO_V1(queue_expiry_headers_sql);
PG_FUNCTION_INFO_V1(queue_expiry_headers_clear_sql);

/*
 * queue_schedule_init / queue_schedule_reset
 *		A slot's schedule at server start, and when a queue claims the
 *		slot: a queue new to the slot table may hold anything, so
 *		everything is due.
 */
void
queue_schedule_init(QueueSchedule *s)
{
	pg_atomic_init_u64(&s->sweep_due, 0);
	pg_atomic_init_u64(&s->swept_at, 0);
	pg_atomic_init_u64(&s->swept_changes, 0);
	pg_atomic_init_u32(&s->housekeep, 1);
	pg_atomic_init_u64(&s->expire_at, 0);
	pg_atomic_init_u32(&s->expiry_headers, 1);
}

void
queue_schedule_reset(QueueSchedule *s)
{
	pg_atomic_write_u64(&s->sweep_due, 0);
	pg_atomic_write_u64(&s->swept_changes, 0);
	pg_atomic_write_u32(&s->housekeep, 1);
	pg_atomic_write_u64(&s->expire_at, 0);
	pg_atomic_write_u32(&s->expiry_headers, 1);
}

/*
 * queue_schedule_note
 *		A committing (or preparing) transaction's notes: the queue's sweep
 *		is due at sweep_due, a message may expire at expire_at, unless
 *		either is earlier already (DT_NOEND: no note).
 */
void
queue_schedule_note(QueueSchedule *s, TimestampTz sweep_due, TimestampTz expire_at)
{
	if (sweep_due != DT_NOEND)
		time_min(&s->sweep_due, sweep_due);
	if (expire_at != DT_NOEND)
		time_min(&s->expire_at, expire_at);
}

/*
 * time_min
 *		Lower a time kept in an atomic to at, unless it is earlier already.
 */
static void
time_min(pg_atomic_uint64 *var, TimestampTz at)
{
	uint64		cur = pg_atomic_read_u64(var);
	uint64		want = (uint64) Max(at, 0);

	while (cur > want && !pg_atomic_compare_exchange_u64(var, &cur, want))
		;
}

/*
 * queue._sweep_take(relid oid) RETURNS boolean, of versions 0.1.0 and
 *		0.2.0: their install and update scripts create it, so the library
 *		keeps the symbol; 0.3.0 drops the function (queue_sweep_take is
 *		called by queue._due_queues).
 */
Datum
queue_sweep_take_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(queue_sweep_take(PG_GETARG_OID(0)));
}

/*
 * table_changes
 *		Rows inserted, updated and deleted in relid's table so far, as the
 *		cumulative statistics count them; -1 when they do not.
 */
int64
queue_table_changes(Oid relid)
{
	PgStat_StatTabEntry *st = pgstat_fetch_stat_tabentry(relid);

	if (st == NULL)
		return -1;
	return st->tuples_inserted + st->tuples_updated + st->tuples_deleted;
}

/*
 * queue_sweep_take
 *		Whether the worker should sweep the queue's table for dead letters
 *		now; if so, the due time is taken (the worker puts back what
 *		remains with queue._sweep_at, and a rollback gives it back).
 *		Always true without a slot.  Called by queue._due_queues.
 */
bool
queue_sweep_take(Oid relid)
{
	QueueSchedule *s = queue_schedule_slot(relid, true);
	uint64		now;
	uint64		cur;
	int64		changes = PG_INT64_MIN;	/* not looked up yet */

	if (s == NULL)
		return true;
	now = (uint64) Max(GetCurrentTimestamp(), 0);
	/* a sweep this transaction asked for, which others see at commit */
	if (queue_pending_sweep_due(relid) <= (TimestampTz) now)
		return true;
	if (ntaken == maxtaken)
	{
		maxtaken = Max(64, maxtaken * 2);
		taken = taken ? repalloc(taken, sizeof(TakenSweep) * maxtaken) :
			MemoryContextAlloc(TopMemoryContext, sizeof(TakenSweep) * maxtaken);
	}
	/*
	 * The backstop: due anyway a minute after the last sweep, unless
	 * nothing was written to the table since (what no note tells is a
	 * write behind the API, which the statistics count too).
	 */
	cur = pg_atomic_read_u64(&s->swept_at);
	if (now - Min(cur, now) >= SWEEP_BACKSTOP_USECS)
	{
		changes = queue_table_changes(relid);
		if (changes >= 0 &&
			(uint64) changes + 1 == pg_atomic_read_u64(&s->swept_changes))
			pg_atomic_write_u64(&s->swept_at, now);
		else
			time_min(&s->sweep_due, 0);
	}
	cur = pg_atomic_read_u64(&s->sweep_due);
	while (cur <= now)
	{
		if (pg_atomic_compare_exchange_u64(&s->sweep_due, &cur, (uint64) PG_INT64_MAX))
		{
			if (changes == PG_INT64_MIN)
				changes = queue_table_changes(relid);
			pg_atomic_write_u64(&s->swept_at, now);
			pg_atomic_write_u64(&s->swept_changes, changes >= 0 ? (uint64) changes + 1 : 0);
			taken[ntaken].schedule = s;
			taken[ntaken].nest_level = GetCurrentTransactionNestLevel();
			ntaken++;
			return true;
		}
	}
	return false;
}

/*
 * queue_housekeeping
 *		The flag that tells the worker a queue's archive, idempotency keys
 *		or producer sequence numbers may hold rows: set (true) by what
 *		writes them, cleared (false) by the worker when it found the three
 *		tables empty.  A queue without a slot is always flagged.
 */
bool
queue_housekeeping(Oid relid, int set)
{
	QueueSchedule *s = queue_schedule_slot(relid, set > 0);

	if (s == NULL)
		return true;
	if (set > 0)
		pg_atomic_write_u32(&s->housekeep, 1);
	else if (set == 0)
		pg_atomic_write_u32(&s->housekeep, 0);
	return pg_atomic_read_u32(&s->housekeep) != 0;
}

/*
 * queue_sweep_xact_end / queue_sweep_subxact_end
 *		At the end of a transaction, or of a subtransaction at nest level
 *		level, from counters.c's callbacks: the sweeps it took are done
 *		(commit: a subtransaction hands them to its parent), or due again
 *		(rollback).
 */
void
queue_sweep_xact_end(bool aborted)
{
	int			i;

	if (aborted)
		for (i = 0; i < ntaken; i++)
			time_min(&taken[i].schedule->sweep_due, 0);
	ntaken = 0;
}

void
queue_sweep_subxact_end(int level, bool aborted)
{
	int			kept = 0;
	int			i;

	for (i = 0; i < ntaken; i++)
	{
		if (taken[i].nest_level < level)
			taken[kept++] = taken[i];
		else if (!aborted)
		{
			taken[i].nest_level = level - 1;
			taken[kept++] = taken[i];
		}
		else
			time_min(&taken[i].schedule->sweep_due, 0);
	}
	ntaken = kept;
}

/*
 * queue._sweep_at(relid oid, due timestamptz)
 *		Make the queue's sweep due at due, unless it is due earlier, when
 *		this transaction commits.
 */
Datum
queue_sweep_at_sql(PG_FUNCTION_ARGS)
{
	queue_note_sweep(PG_GETARG_OID(0), PG_GETARG_TIMESTAMPTZ(1));
	PG_RETURN_VOID();
}

/*
 * Message expiry (queues with a message_ttl): a slot's expire_at is the
 * earliest time a message of the queue may expire.  A send notes its
 * message's (enqueued_at + message_ttl), taken at commit as the minimum; the
 * worker, after it expired what it could, sets the next one
 * (queue._expire_at).  0: not known, look now.  A note lost to a race with
 * the worker's set is made good by its full pass, which looks at every
 * queue with a message_ttl once a minute; reads never hand out an expired
 * message meanwhile (read.c).  The note itself is counters.c's
 * (queue_note_expiry), which keeps it until commit.
 */

/*
 * queue_expiry_due
 *		Whether the worker should look for expired messages of relid's
 *		queue (schedule.c); a queue without a slot is due.
 */
bool
queue_expiry_due(Oid relid, TimestampTz now)
{
	QueueSchedule *s = queue_schedule_slot(relid, true);

	if (s == NULL)
		return true;
	return pg_atomic_read_u64(&s->expire_at) <= (uint64) Max(now, 0);
}

/*
 * queue._expire_at(relid oid, at timestamptz)
 *		When the worker should look at the queue's expiry next (NULL:
 *		never, until a send notes one).  Set by the worker's step.
 */
Datum
queue_expire_at_sql(PG_FUNCTION_ARGS)
{
	QueueSchedule *s = queue_schedule_slot(PG_GETARG_OID(0), true);

	if (s != NULL)
		pg_atomic_write_u64(&s->expire_at,
							PG_ARGISNULL(1) ? (uint64) PG_INT64_MAX :
							(uint64) Max(PG_GETARG_TIMESTAMPTZ(1), 0));
	PG_RETURN_VOID();
}

/*
 * queue._note_expiry(relid oid, at timestamptz)
 *		When this transaction commits, the worker looks for expired messages
 *		of the queue at 'at' at the latest (queue.alter of message_ttl).
 */
Datum
queue_note_expiry_sql(PG_FUNCTION_ARGS)
{
	queue_note_expiry(PG_GETARG_OID(0), PG_GETARG_TIMESTAMPTZ(1), false);
	PG_RETURN_VOID();
}

/*
 * Messages with an expiry of their own (send's ttl, in the header
 * QUEUE_EXPIRES_HEADER): a slot's expiry_headers is 0 while no message of
 * the queue has one, so that reads need not look at headers; otherwise a
 * number that every such send raises, so that the worker, which finds
 * none with a scan, can set it to 0 only if no send came meanwhile
 * (queue._expiry_headers_clear).  A send raises it before its insert (so
 * that reads look) and again at commit: a worker that read the number
 * after the first raise but scanned before the commit cannot leave it at
 * 0.  A new slot says "maybe" (1): after a restart the worker's first look
 * clears it.
 */
void
queue_expiry_headers_mark(Oid relid)
{
	QueueSchedule *s = queue_schedule_slot(relid, true);

	if (s != NULL && pg_atomic_add_fetch_u32(&s->expiry_headers, 1) == 0)
		pg_atomic_add_fetch_u32(&s->expiry_headers, 1);	/* wrapped: not 0 */
}

uint32
queue_expiry_headers(Oid relid)
{
	QueueSchedule *s = queue_schedule_slot(relid, false);

	return s ? pg_atomic_read_u32(&s->expiry_headers) : 1;
}

/*
 * queue._expiry_headers(relid oid) RETURNS bigint
 *		queue_expiry_headers, for the worker's step.
 */
Datum
queue_expiry_headers_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) queue_expiry_headers(PG_GETARG_OID(0)));
}

/*
 * queue._expiry_headers_clear(relid oid, seen bigint)
 *		No message of the queue has an expiry of its own, as of a scan that
 *		began when the slot said seen.
 */
Datum
queue_expiry_headers_clear_sql(PG_FUNCTION_ARGS)
{
	QueueSchedule *s = queue_schedule_slot(PG_GETARG_OID(0), false);
	uint32		seen = (uint32) PG_GETARG_INT64(1);

	if (s != NULL)
		(void) pg_atomic_compare_exchange_u32(&s->expiry_headers, &seen, 0);
	PG_RETURN_VOID();
}
