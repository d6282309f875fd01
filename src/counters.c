/*-------------------------------------------------------------------------
 *
 * counters.c
 *		The sent_total, acked_total and dead_total counters of queue.stats.
 *
 * The counters live in shared memory (so they need the library preloaded)
 * in a fixed open-addressing table keyed by database and message table
 * OID.  A backend collects its changes during a transaction and adds them
 * at commit (a transaction callback), so a rolled-back send is not counted,
 * nor one in a rolled-back subtransaction.  They are approximate by design:
 * they start from zero at server start, they are not crash-safe, and a
 * queue that finds the table full is not counted.
 *
 * The same slots tell the worker when a queue's dead-letter sweep is due
 * (sweep_due), so that it does not scan every queue's table every step.
 * Only a message handed out for the last time (its delivery_count reaches
 * max_deliveries) can be dead-lettered by the worker: reads note when such
 * a delivery's visibility timeout runs out, and add it at commit, after
 * the new row version is visible to others.  The worker takes a due time
 * (queue_sweep_take, through queue._due_queues), sweeps, and puts back
 * when the last-chance messages still in flight come due (queue._sweep_at,
 * also at commit, as is queue.alter's request for a sweep: until then only
 * the transaction itself sees it).  A taken time is replaced by the minimum, so a note
 * made meanwhile is not lost.  A delivery whose transaction rolls back is
 * counted as a failure, and the worker sweeps a queue where that made a
 * message reach max_deliveries; a queue without a slot (after a restart,
 * or with the table full) is always due.  As a backstop for what no note
 * tells (rows changed behind the API, a prepared transaction's last
 * delivery), every queue is swept at least once a minute, unless nothing
 * was written to its table since its last sweep.
 *
 * A slot also holds the queue's read position (position.c), with the
 * rewinds and rescans a transaction notes for it, applied here at commit,
 * and whether its archive, key or producer tables may hold rows, for the
 * worker's scheduling (schedule.c).
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"

#include "queue.h"

#define QUEUE_COUNTER_SLOTS 4096

typedef struct QueueCounterSlot
{
	Oid			dbid;			/* InvalidOid: free slot */
	Oid			relid;
	pg_atomic_uint64 sent;
	pg_atomic_uint64 acked;
	pg_atomic_uint64 dead;
	pg_atomic_uint64 sweep_due; /* TimestampTz; PG_INT64_MAX: nothing due */
	pg_atomic_uint64 swept_at;	/* TimestampTz of the last sweep taken */
	pg_atomic_uint64 swept_changes; /* table_changes() + 1 then; 0: unknown */
	pg_atomic_uint32 housekeep;	/* archive, keys or producers may hold rows */
	pg_atomic_uint64 expire_at; /* TimestampTz: a message may expire then */
	pg_atomic_uint32 expiry_headers;	/* 0: no message has its own expiry */
	QueuePosition position;		/* where reads start (position.c) */
	QueueMeasure measure;		/* counts as of the last measurement (measure.c) */
} QueueCounterSlot;

/* every queue is swept at least this often (microseconds) */
#define SWEEP_BACKSTOP_USECS	(60 * USECS_PER_SEC)

typedef struct QueueCounters
{
	slock_t		mutex;			/* taken only to claim a free slot */
	pg_atomic_uint32 positions_frozen;	/* see queue_sending_begin */
	QueueCounterSlot slots[QUEUE_COUNTER_SLOTS];
} QueueCounters;

static QueueCounters *counters = NULL;

/* changes of the current transaction, added at commit */
typedef struct PendingCount
{
	Oid			relid;
	int			nest_level;		/* subtransaction that made the changes */
	int64		sent;
	int64		acked;
	int64		dead;
	int64		made_visible;	/* messages made visible: wakes readers */
	TimestampTz sweep_due;		/* earliest last-chance delivery timeout */
	int64		rewind_to;		/* reads must look from here again */
	bool		rewind_head;	/* ... and rows below head may be live */
	TimestampTz rescan_at;		/* a row behind ready is visible then */
	TimestampTz expire_at;		/* a message sent may expire then */
	bool		own_expiry;		/* ... with an expiry of its own */
} PendingCount;

#define MAX_PENDING 64
static PendingCount pending[MAX_PENDING];
static int	npending = 0;

/* a last-chance delivery found no room in pending[]: sweep all at commit */
static bool sweep_note_lost = false;

/*
 * Sweeps taken by this transaction (queue_sweep_take): if it rolls back,
 * or the subtransaction that took one does, the sweep is due again.
 */
typedef struct TakenSweep
{
	QueueCounterSlot *slot;
	int			nest_level;
} TakenSweep;

static TakenSweep *taken = NULL;
static int	ntaken = 0;
static int	maxtaken = 0;

static void sweep_due_min(QueueCounterSlot *slot, TimestampTz at);
static void time_min(pg_atomic_uint64 *var, TimestampTz at);

PG_FUNCTION_INFO_V1(queue_totals_sql);
PG_FUNCTION_INFO_V1(queue_reset_totals_sql);
PG_FUNCTION_INFO_V1(queue_count_dead_sql);
PG_FUNCTION_INFO_V1(queue_count_visible_sql);
PG_FUNCTION_INFO_V1(queue_sweep_at_sql);
PG_FUNCTION_INFO_V1(queue_sweep_take_sql);
PG_FUNCTION_INFO_V1(queue_rewind_sql);
PG_FUNCTION_INFO_V1(queue_expire_at_sql);
PG_FUNCTION_INFO_V1(queue_note_expiry_sql);
PG_FUNCTION_INFO_V1(queue_expiry_headers_sql);
PG_FUNCTION_INFO_V1(queue_expiry_headers_clear_sql);

static void queue_counters_xact_callback(XactEvent event, void *arg);
static void queue_counters_subxact_callback(SubXactEvent event,
											SubTransactionId mySubid,
											SubTransactionId parentSubid,
											void *arg);

/*
 * queue_counters_shmem_request / queue_counters_shmem_startup
 *		Reserve and attach the counter table.
 */
void
queue_counters_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(QueueCounters)));
}

void
queue_counters_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	counters = ShmemInitStruct("queue counters", sizeof(QueueCounters), &found);
	if (!found)
	{
		int			i;

		SpinLockInit(&counters->mutex);
		pg_atomic_init_u32(&counters->positions_frozen, 0);
		for (i = 0; i < QUEUE_COUNTER_SLOTS; i++)
		{
			queue_position_init(&counters->slots[i].position);
			SpinLockInit(&counters->slots[i].measure.mutex);
			queue_measure_reset(&counters->slots[i].measure);
			pg_atomic_init_u32(&counters->slots[i].housekeep, 1);
			pg_atomic_init_u64(&counters->slots[i].expire_at, 0);
			pg_atomic_init_u32(&counters->slots[i].expiry_headers, 1);
			counters->slots[i].dbid = InvalidOid;
			counters->slots[i].relid = InvalidOid;
			pg_atomic_init_u64(&counters->slots[i].sent, 0);
			pg_atomic_init_u64(&counters->slots[i].acked, 0);
			pg_atomic_init_u64(&counters->slots[i].dead, 0);
			pg_atomic_init_u64(&counters->slots[i].sweep_due, 0);
			pg_atomic_init_u64(&counters->slots[i].swept_at, 0);
			pg_atomic_init_u64(&counters->slots[i].swept_changes, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
	queue_position_set_frozen_flag(&counters->positions_frozen);
}

/*
 * queue_counters_init
 *		Register the commit callback (_PG_init).
 */
void
queue_counters_init(void)
{
	RegisterXactCallback(queue_counters_xact_callback, NULL);
	RegisterSubXactCallback(queue_counters_subxact_callback, NULL);
}

/*
 * counter_slot
 *		The slot of a queue, claimed when create is true and the queue has
 *		none yet; NULL when there is no shared memory or no room.
 */
static QueueCounterSlot *
counter_slot(Oid relid, bool create)
{
	uint32		start;
	int			i;

	if (counters == NULL)
		return NULL;

	start = queue_table_hash(MyDatabaseId, relid) % QUEUE_COUNTER_SLOTS;
	for (i = 0; i < QUEUE_COUNTER_SLOTS; i++)
	{
		QueueCounterSlot *slot = &counters->slots[(start + i) % QUEUE_COUNTER_SLOTS];
		Oid			dbid = slot->dbid;

		pg_read_barrier();
		if (dbid == MyDatabaseId && slot->relid == relid)
			return slot;
		if (dbid == InvalidOid)
		{
			if (!create)
				return NULL;
			SpinLockAcquire(&counters->mutex);
			if (slot->dbid == InvalidOid)
			{
				/* a queue new to this slot table may hold anything: due */
				pg_atomic_write_u64(&slot->sweep_due, 0);
				pg_atomic_write_u64(&slot->swept_changes, 0);
				queue_position_reset(&slot->position);
				queue_measure_reset(&slot->measure);
				pg_atomic_write_u32(&slot->housekeep, 1);
				pg_atomic_write_u64(&slot->expire_at, 0);
				pg_atomic_write_u32(&slot->expiry_headers, 1);
				slot->relid = relid;
				pg_write_barrier();
				slot->dbid = MyDatabaseId;
				SpinLockRelease(&counters->mutex);
				return slot;
			}
			SpinLockRelease(&counters->mutex);
			/* someone claimed it meanwhile: look at it again */
			i--;
		}
	}
	return NULL;
}

/*
 * pending_for
 *		The pending changes of a queue in this transaction.
 */
static PendingCount *
pending_for(Oid relid)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i;

	for (i = 0; i < npending; i++)
		if (pending[i].relid == relid && pending[i].nest_level == level)
			return &pending[i];
	if (npending == MAX_PENDING)
		return NULL;			/* approximate: this change is not counted */
	pending[npending].relid = relid;
	pending[npending].nest_level = level;
	pending[npending].sent = 0;
	pending[npending].acked = 0;
	pending[npending].dead = 0;
	pending[npending].made_visible = 0;
	pending[npending].sweep_due = DT_NOEND;
	pending[npending].rewind_to = PG_INT64_MAX;
	pending[npending].rewind_head = false;
	pending[npending].rescan_at = DT_NOEND;
	pending[npending].expire_at = DT_NOEND;
	pending[npending].own_expiry = false;
	return &pending[npending++];
}

/*
 * queue_deleted_in_xact
 *		Whether this transaction (any of its subtransactions) deleted rows
 *		of relid's table: acked, popped or dead-lettered them.  Its reads
 *		then do not move the read position, which would pass rows that a
 *		rollback brings back.
 */
bool
queue_deleted_in_xact(Oid relid)
{
	int			i;

	if (npending == MAX_PENDING)
		return true;			/* not all changes are known */
	for (i = 0; i < npending; i++)
		if (pending[i].relid == relid && (pending[i].acked > 0 || pending[i].dead > 0))
			return true;
	return false;
}

/*
 * queue_pending_position
 *		The rewinds and rescans this transaction noted for relid, which its
 *		own reads obey before they take effect for others at commit.
 */
void
queue_pending_position(Oid relid, int64 *rewind_to, TimestampTz *rescan_at)
{
	int			i;

	*rewind_to = PG_INT64_MAX;
	*rescan_at = DT_NOEND;
	for (i = 0; i < npending; i++)
		if (pending[i].relid == relid)
		{
			*rewind_to = Min(*rewind_to, pending[i].rewind_to);
			*rescan_at = Min(*rescan_at, pending[i].rescan_at);
		}
}

/*
 * queue_measure_slot
 *		The measured counts of a queue (measure.c); NULL without shared
 *		memory or room.
 */
QueueMeasure *
queue_measure_slot(Oid relid, bool create)
{
	QueueCounterSlot *slot = counter_slot(relid, create);

	return slot ? &slot->measure : NULL;
}

/*
 * queue_read_totals
 *		The sent, acked and dead counters of a queue; -1 each without
 *		shared memory, 0 for a queue without a slot.
 */
void
queue_read_totals(Oid relid, int64 *sent, int64 *acked, int64 *dead)
{
	QueueCounterSlot *slot;

	if (counters == NULL)
	{
		*sent = *acked = *dead = -1;
		return;
	}
	slot = counter_slot(relid, false);
	*sent = slot ? (int64) pg_atomic_read_u64(&slot->sent) : 0;
	*acked = slot ? (int64) pg_atomic_read_u64(&slot->acked) : 0;
	*dead = slot ? (int64) pg_atomic_read_u64(&slot->dead) : 0;
}

/*
 * queue_position_slot
 *		The read position of a queue (position.c); NULL without shared
 *		memory or room.
 */
QueuePosition *
queue_position_slot(Oid relid, bool create)
{
	QueueCounterSlot *slot = counter_slot(relid, create);

	return slot ? &slot->position : NULL;
}

/*
 * queue_note_rewind
 *		When this transaction commits, reads of relid's table must look at
 *		id again; with_head, rows below head may be live again (redrive).
 *		Without room to remember it, the rewind is made now (a read may
 *		then move past the row before this transaction commits; the
 *		minute's backstop brings it back).
 */
void
queue_note_rewind(Oid relid, int64 id, bool with_head)
{
	PendingCount *p = pending_for(relid);

	if (p == NULL)
	{
		queue_position_rewind(relid, id, with_head);
		return;
	}
	p->rewind_to = Min(p->rewind_to, id);
	p->rewind_head |= with_head;
}

/*
 * queue_note_rescan
 *		When this transaction commits, a row of relid's table becomes
 *		visible again at 'at' (nack, extend).
 */
void
queue_note_rescan(Oid relid, TimestampTz at)
{
	PendingCount *p = pending_for(relid);

	if (p == NULL)
	{
		queue_position_rescan_at(relid, at);
		return;
	}
	p->rescan_at = Min(p->rescan_at, at);
}

/*
 * apply_position_notes
 *		The rewinds and rescans a transaction noted, at its commit.
 */
static void
apply_position_notes(const PendingCount *p)
{
	if (p->rewind_to != PG_INT64_MAX)
		queue_position_rewind(p->relid, p->rewind_to, p->rewind_head);
	if (p->rescan_at != DT_NOEND)
		queue_position_rescan_at(p->relid, p->rescan_at);
}

void
queue_count_sent(Oid relid, int64 n)
{
	PendingCount *p = pending_for(relid);

	if (p)
	{
		p->sent += n;
		p->made_visible += n;
	}
}

void
queue_count_visible(Oid relid, int64 n)
{
	PendingCount *p = pending_for(relid);

	if (p)
		p->made_visible += n;
}

void
queue_count_acked(Oid relid, int64 n)
{
	PendingCount *p = pending_for(relid);

	if (p)
		p->acked += n;
}

void
queue_count_dead(Oid relid, int64 n)
{
	PendingCount *p = pending_for(relid);

	if (p)
		p->dead += n;
}

/*
 * queue_note_sweep
 *		relid's table must be swept for dead letters at due, after this
 *		transaction commits: a message of it was handed out for the last
 *		time until due (and the worker must look at it then, unless it is
 *		acked), or queue.alter changed its max_deliveries.
 */
void
queue_note_sweep(Oid relid, TimestampTz due)
{
	PendingCount *p = pending_for(relid);

	if (p)
		p->sweep_due = Min(p->sweep_due, due);
	else
		sweep_note_lost = true;
}

/*
 * sweep_due_min
 *		Lower a slot's sweep_due to at, unless it is earlier already.
 */
static void
sweep_due_min(QueueCounterSlot *slot, TimestampTz at)
{
	time_min(&slot->sweep_due, at);
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
 * queue_counters_xact_callback
 *		Add the transaction's changes at commit; forget them at abort.
 */
static void
queue_counters_xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			for (i = 0; i < npending; i++)
			{
				QueueCounterSlot *slot = counter_slot(pending[i].relid, true);

				apply_position_notes(&pending[i]);
				queue_wake_waiters(pending[i].relid, pending[i].made_visible);
				if (slot == NULL)
					continue;
				if (pending[i].sweep_due != DT_NOEND)
					sweep_due_min(slot, pending[i].sweep_due);
				if (pending[i].expire_at != DT_NOEND)
					time_min(&slot->expire_at, pending[i].expire_at);
				/* again now that the messages are visible (see below) */
				if (pending[i].own_expiry)
					queue_expiry_headers_mark(pending[i].relid);
				if (pending[i].sent)
					pg_atomic_fetch_add_u64(&slot->sent, pending[i].sent);
				if (pending[i].acked)
					pg_atomic_fetch_add_u64(&slot->acked, pending[i].acked);
				if (pending[i].dead)
					pg_atomic_fetch_add_u64(&slot->dead, pending[i].dead);
			}
			npending = 0;
			if (sweep_note_lost && counters != NULL)
			{
				/* rare: every queue of this database is due */
				for (i = 0; i < QUEUE_COUNTER_SLOTS; i++)
					if (counters->slots[i].dbid == MyDatabaseId)
						sweep_due_min(&counters->slots[i], 0);
			}
			sweep_note_lost = false;
			ntaken = 0;
			break;
		case XACT_EVENT_PREPARE:
			/*
			 * Counts of a prepared transaction are not kept (approximate);
			 * its last-chance deliveries are noted now, best effort; what
			 * it made visible is woken by COMMIT PREPARED (prepared.c).
			 */
			for (i = 0; i < npending; i++)
			{
				QueueCounterSlot *slot = counter_slot(pending[i].relid, true);

				if (pending[i].made_visible > 0 || pending[i].rewind_to != PG_INT64_MAX ||
					pending[i].rescan_at != DT_NOEND || pending[i].own_expiry)
					queue_prepared_keep(pending[i].relid, pending[i].made_visible,
										pending[i].rewind_to, pending[i].rewind_head,
										pending[i].rescan_at, pending[i].own_expiry);
				if (slot != NULL && pending[i].expire_at != DT_NOEND)
					time_min(&slot->expire_at, pending[i].expire_at);

				/* best effort: the backstop covers a later COMMIT PREPARED */
				apply_position_notes(&pending[i]);
				if (slot != NULL && pending[i].sweep_due != DT_NOEND)
					sweep_due_min(slot, pending[i].sweep_due);
			}
			npending = 0;
			sweep_note_lost = false;
			ntaken = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			queue_sending_abort(0);
			npending = 0;
			sweep_note_lost = false;
			for (i = 0; i < ntaken; i++)
				sweep_due_min(taken[i].slot, 0);
			ntaken = 0;
			break;
		default:
			break;
	}
}

/*
 * queue_counters_subxact_callback
 *		A committed subtransaction hands its changes to its parent; a
 *		rolled-back one forgets them.
 */
static void
queue_counters_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i;
	int			kept = 0;

	switch (event)
	{
		case SUBXACT_EVENT_COMMIT_SUB:
			for (i = 0; i < npending; i++)
				if (pending[i].nest_level >= level)
					pending[i].nest_level = level - 1;
			for (i = 0; i < ntaken; i++)
				if (taken[i].nest_level >= level)
					taken[i].nest_level = level - 1;
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			queue_sending_abort(level);
			for (i = 0; i < npending; i++)
				if (pending[i].nest_level < level)
					pending[kept++] = pending[i];
			npending = kept;
			kept = 0;
			for (i = 0; i < ntaken; i++)
			{
				if (taken[i].nest_level < level)
					taken[kept++] = taken[i];
				else
					sweep_due_min(taken[i].slot, 0);
			}
			ntaken = kept;
			break;
		default:
			break;
	}
}

/*
 * queue._totals(relid oid, OUT sent_total bigint, OUT acked_total bigint,
 *				 OUT dead_total bigint)
 *		The counters of one queue; NULLs when the library is not preloaded.
 *		The function of versions 0.1.0 to 0.4.0 (0.5.0 reads the counters
 *		through queue._measured); the library keeps the symbol for them.
 */
Datum
queue_totals_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		totals[3];
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "queue._totals must return a row");
	queue_require_relid(relid, QPRIV_CONSUME);
	desc = BlessTupleDesc(desc);
	queue_read_totals(relid, &totals[0], &totals[1], &totals[2]);
	for (i = 0; i < 3; i++)
	{
		values[i] = Int64GetDatum(totals[i]);
		nulls[i] = totals[i] < 0;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * queue._reset_totals(relid oid)
 *		Start a new queue's counters from zero, in case its table OID was
 *		used by a queue dropped earlier.  Called by queue.create.
 */
Datum
queue_reset_totals_sql(PG_FUNCTION_ARGS)
{
	/* claimed now, so that the worker measures the queue at once */
	QueueCounterSlot *slot = counter_slot(PG_GETARG_OID(0), true);

	if (slot != NULL)
	{
		queue_position_reset(&slot->position);
		queue_measure_reset(&slot->measure);
		pg_atomic_write_u64(&slot->sent, 0);
		pg_atomic_write_u64(&slot->acked, 0);
		pg_atomic_write_u64(&slot->dead, 0);
	}
	PG_RETURN_VOID();
}

/*
 * queue._count_dead(relid oid, n bigint)
 *		Count messages the worker dead-lettered (added at commit).
 */
Datum
queue_count_dead_sql(PG_FUNCTION_ARGS)
{
	queue_count_dead(PG_GETARG_OID(0), PG_GETARG_INT64(1));
	PG_RETURN_VOID();
}

/*
 * queue._count_visible(relid oid, n bigint)
 *		Note messages made visible (redrive), to wake readers at commit.
 */
Datum
queue_count_visible_sql(PG_FUNCTION_ARGS)
{
	queue_count_visible(PG_GETARG_OID(0), PG_GETARG_INT64(1));
	PG_RETURN_VOID();
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
	QueueCounterSlot *slot = counter_slot(relid, true);
	uint64		now;
	uint64		cur;
	int64		changes = PG_INT64_MIN;	/* not looked up yet */
	int			i;

	if (slot == NULL)
		return true;
	now = (uint64) Max(GetCurrentTimestamp(), 0);
	/* a sweep this transaction asked for, which others see at commit */
	for (i = 0; i < npending; i++)
		if (pending[i].relid == relid && pending[i].sweep_due <= (TimestampTz) now)
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
	cur = pg_atomic_read_u64(&slot->swept_at);
	if (now - Min(cur, now) >= SWEEP_BACKSTOP_USECS)
	{
		changes = queue_table_changes(relid);
		if (changes >= 0 &&
			(uint64) changes + 1 == pg_atomic_read_u64(&slot->swept_changes))
			pg_atomic_write_u64(&slot->swept_at, now);
		else
			sweep_due_min(slot, 0);
	}
	cur = pg_atomic_read_u64(&slot->sweep_due);
	while (cur <= now)
	{
		if (pg_atomic_compare_exchange_u64(&slot->sweep_due, &cur, (uint64) PG_INT64_MAX))
		{
			if (changes == PG_INT64_MIN)
				changes = queue_table_changes(relid);
			pg_atomic_write_u64(&slot->swept_at, now);
			pg_atomic_write_u64(&slot->swept_changes, changes >= 0 ? (uint64) changes + 1 : 0);
			taken[ntaken].slot = slot;
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
	QueueCounterSlot *slot = counter_slot(relid, set > 0);

	if (slot == NULL)
		return true;
	if (set > 0)
		pg_atomic_write_u32(&slot->housekeep, 1);
	else if (set == 0)
		pg_atomic_write_u32(&slot->housekeep, 0);
	return pg_atomic_read_u32(&slot->housekeep) != 0;
}

/*
 * queue_slot_relids
 *		The message tables of this database that have a slot (queues used
 *		since the server started), into relids[] (palloc'd); returns how
 *		many.
 */
int
queue_slot_relids(Oid **relids)
{
	int			n = 0;
	int			i;

	*relids = palloc(sizeof(Oid) * QUEUE_COUNTER_SLOTS);
	if (counters == NULL)
		return 0;
	for (i = 0; i < QUEUE_COUNTER_SLOTS; i++)
	{
		QueueCounterSlot *slot = &counters->slots[i];
		Oid			dbid = slot->dbid;

		pg_read_barrier();
		if (dbid == MyDatabaseId)
			(*relids)[n++] = slot->relid;
	}
	return n;
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
 * queue._rewind(relid oid, id bigint, with_head boolean)
 *		When this transaction commits, reads must look at the queue's rows
 *		from id again (redrive, alter, the worker's dead letters on an
 *		ordered queue); with_head, rows below head may be live again.
 */
Datum
queue_rewind_sql(PG_FUNCTION_ARGS)
{
	queue_note_rewind(PG_GETARG_OID(0), PG_GETARG_INT64(1), PG_GETARG_BOOL(2));
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
 * message meanwhile (read.c).
 */
void
queue_note_expiry(Oid relid, TimestampTz at, bool own)
{
	PendingCount *p = pending_for(relid);

	if (p)
	{
		p->expire_at = Min(p->expire_at, at);
		p->own_expiry |= own;
	}
	else
	{
		QueueCounterSlot *slot = counter_slot(relid, true);

		/* no room to wait for the commit: now, which is only earlier */
		if (slot != NULL)
			time_min(&slot->expire_at, at);
	}
}

/*
 * queue_expiry_due
 *		Whether the worker should look for expired messages of relid's
 *		queue (schedule.c); a queue without a slot is due.
 */
bool
queue_expiry_due(Oid relid, TimestampTz now)
{
	QueueCounterSlot *slot = counter_slot(relid, true);

	if (slot == NULL)
		return true;
	return pg_atomic_read_u64(&slot->expire_at) <= (uint64) Max(now, 0);
}

/*
 * queue._expire_at(relid oid, at timestamptz)
 *		When the worker should look at the queue's expiry next (NULL:
 *		never, until a send notes one).  Set by the worker's step.
 */
Datum
queue_expire_at_sql(PG_FUNCTION_ARGS)
{
	QueueCounterSlot *slot = counter_slot(PG_GETARG_OID(0), true);

	if (slot != NULL)
		pg_atomic_write_u64(&slot->expire_at,
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
	QueueCounterSlot *slot = counter_slot(relid, true);

	if (slot != NULL && pg_atomic_add_fetch_u32(&slot->expiry_headers, 1) == 0)
		pg_atomic_add_fetch_u32(&slot->expiry_headers, 1);	/* wrapped: not 0 */
}

uint32
queue_expiry_headers(Oid relid)
{
	QueueCounterSlot *slot = counter_slot(relid, false);

	return slot ? pg_atomic_read_u32(&slot->expiry_headers) : 1;
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
	QueueCounterSlot *slot = counter_slot(PG_GETARG_OID(0), false);
	uint32		seen = (uint32) PG_GETARG_INT64(1);

	if (slot != NULL)
		(void) pg_atomic_compare_exchange_u32(&slot->expiry_headers, &seen, 0);
	PG_RETURN_VOID();
}
