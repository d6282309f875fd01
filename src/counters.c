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
} QueueCounterSlot;

typedef struct QueueCounters
{
	slock_t		mutex;			/* taken only to claim a free slot */
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
} PendingCount;

#define MAX_PENDING 64
static PendingCount pending[MAX_PENDING];
static int	npending = 0;

PG_FUNCTION_INFO_V1(queue_totals_sql);
PG_FUNCTION_INFO_V1(queue_reset_totals_sql);
PG_FUNCTION_INFO_V1(queue_count_dead_sql);
PG_FUNCTION_INFO_V1(queue_count_visible_sql);

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
		for (i = 0; i < QUEUE_COUNTER_SLOTS; i++)
		{
			counters->slots[i].dbid = InvalidOid;
			counters->slots[i].relid = InvalidOid;
			pg_atomic_init_u64(&counters->slots[i].sent, 0);
			pg_atomic_init_u64(&counters->slots[i].acked, 0);
			pg_atomic_init_u64(&counters->slots[i].dead, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
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

	start = (uint32) ((MyDatabaseId * 2654435761u) ^ relid) % QUEUE_COUNTER_SLOTS;
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
	return &pending[npending++];
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

				queue_wake_waiters(pending[i].relid, pending[i].made_visible);
				if (slot == NULL)
					continue;
				if (pending[i].sent)
					pg_atomic_fetch_add_u64(&slot->sent, pending[i].sent);
				if (pending[i].acked)
					pg_atomic_fetch_add_u64(&slot->acked, pending[i].acked);
				if (pending[i].dead)
					pg_atomic_fetch_add_u64(&slot->dead, pending[i].dead);
			}
			npending = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			npending = 0;
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
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			for (i = 0; i < npending; i++)
				if (pending[i].nest_level < level)
					pending[kept++] = pending[i];
			npending = kept;
			break;
		default:
			break;
	}
}

/*
 * queue._totals(relid oid, OUT sent_total bigint, OUT acked_total bigint,
 *				 OUT dead_total bigint)
 *		The counters of one queue; NULLs when the library is not preloaded.
 */
Datum
queue_totals_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	QueueCounterSlot *slot;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "queue._totals must return a row");
	desc = BlessTupleDesc(desc);

	if (counters == NULL)
	{
		nulls[0] = nulls[1] = nulls[2] = true;
		values[0] = values[1] = values[2] = (Datum) 0;
	}
	else
	{
		slot = counter_slot(relid, false);
		values[0] = Int64GetDatum(slot ? (int64) pg_atomic_read_u64(&slot->sent) : 0);
		values[1] = Int64GetDatum(slot ? (int64) pg_atomic_read_u64(&slot->acked) : 0);
		values[2] = Int64GetDatum(slot ? (int64) pg_atomic_read_u64(&slot->dead) : 0);
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
	QueueCounterSlot *slot = counter_slot(PG_GETARG_OID(0), false);

	if (slot != NULL)
	{
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
