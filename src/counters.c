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
 * The same slots hold each queue's schedule for the worker (sweep.c):
 * when its dead-letter sweep is due, whether its housekeeping tables may
 * hold rows, when a message may expire; the notes a transaction makes for
 * it are added here at commit too.
 *
 * A slot also holds the queue's read position (position.c), with the
 * rewinds and rescans a transaction notes for it, applied here at commit,
 * and the counts of queue.stats the worker measured (measure.c).
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
	QueueSchedule schedule;		/* for the worker (sweep.c) */
	QueuePosition position;		/* where reads start (position.c) */
	QueueMeasure measure;		/* counts as of the last measurement (measure.c) */
} QueueCounterSlot;

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

PG_FUNCTION_INFO_V1(queue_totals_sql);
PG_FUNCTION_INFO_V1(queue_reset_totals_sql);
PG_FUNCTION_INFO_V1(queue_count_dead_sql);
PG_FUNCTION_INFO_V1(queue_count_visible_sql);
PG_FUNCTION_INFO_V1(queue_rewind_sql);

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
			queue_schedule_init(&counters->slots[i].schedule);
			counters->slots[i].dbid = InvalidOid;
			counters->slots[i].relid = InvalidOid;
			pg_atomic_init_u64(&counters->slots[i].sent, 0);
			pg_atomic_init_u64(&counters->slots[i].acked, 0);
			pg_atomic_init_u64(&counters->slots[i].dead, 0);
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
				queue_schedule_reset(&slot->schedule);
				queue_position_reset(&slot->position);
				queue_measure_reset(&slot->measure);
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
 * queue_schedule_slot
 *		The worker's schedule of a queue (sweep.c); NULL without shared
 *		memory or room.
 */
QueueSchedule *
queue_schedule_slot(Oid relid, bool create)
{
	QueueCounterSlot *slot = counter_slot(relid, create);

	return slot ? &slot->schedule : NULL;
}

/*
 * queue_pending_sweep_due
 *		The earliest sweep this transaction noted for relid, which others
 *		see at commit (DT_NOEND: none).
 */
TimestampTz
queue_pending_sweep_due(Oid relid)
{
	TimestampTz due = DT_NOEND;
	int			i;

	for (i = 0; i < npending; i++)
		if (pending[i].relid == relid)
			due = Min(due, pending[i].sweep_due);
	return due;
}

/*
 * queue_note_expiry
 *		A message of relid's queue may expire at 'at' (own: by an expiry of
 *		its own, in its headers): noted for the worker when this
 *		transaction commits (sweep.c, "Message expiry").
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
		QueueSchedule *s = queue_schedule_slot(relid, true);

		/* no room to wait for the commit: now, which is only earlier */
		if (s != NULL)
			queue_schedule_note(s, DT_NOEND, at);
	}
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
				queue_schedule_note(&slot->schedule, pending[i].sweep_due,
									pending[i].expire_at);
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
						queue_schedule_note(&counters->slots[i].schedule, 0, DT_NOEND);
			}
			sweep_note_lost = false;
			queue_sweep_xact_end(false);
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
				/* best effort: the backstop covers a later COMMIT PREPARED */
				apply_position_notes(&pending[i]);
				if (slot != NULL)
					queue_schedule_note(&slot->schedule, pending[i].sweep_due,
										pending[i].expire_at);
			}
			npending = 0;
			sweep_note_lost = false;
			queue_sweep_xact_end(false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			queue_sending_abort(0);
			npending = 0;
			sweep_note_lost = false;
			queue_sweep_xact_end(true);
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
			queue_sweep_subxact_end(level, false);
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			queue_sending_abort(level);
			for (i = 0; i < npending; i++)
				if (pending[i].nest_level < level)
					pending[kept++] = pending[i];
			npending = kept;
			queue_sweep_subxact_end(level, true);
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

