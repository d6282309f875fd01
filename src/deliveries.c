/*-------------------------------------------------------------------------
 *
 * deliveries.c
 *		Counting deliveries whose reading transaction rolled back.
 *
 * read counts a delivery by raising delivery_count in the reader's
 * transaction; when that transaction (or the subtransaction that read)
 * rolls back, the increment is rolled back with it, and a message that
 * makes every consumer fail would circle forever.  So each backend
 * remembers the messages it handed out in the current transaction, and
 * when the (sub)transaction that read them aborts, it adds the failed
 * deliveries to a table in shared memory, keyed by message:
 *
 *	- the next read of the message takes the pending failures over into
 *	  the delivery_count it writes (and gives them back if it rolls back
 *	  too), and does not hand the message out once they make it reach
 *	  max_deliveries, so a crash loop ends at max_deliveries at once;
 *	- the background worker takes the failures of messages nobody reads
 *	  and counts them in a transaction of its own; a message that has
 *	  reached max_deliveries then moves to the dead letters.
 *
 * A prepared transaction's outcome comes later, maybe in another backend:
 * its deliveries go to a ring with its xid, and the worker turns them into
 * failures if it rolls back.  Needs the library preloaded; a full table
 * drops failures (queue.worker_status.failures_dropped says so).
 *
 * A crash ends transactions without abort processing: the deliveries of
 * those in progress come back from journal.c as conditional failures
 * ("the count should be at least N"), resolved against the row by the next
 * read or the worker.  Failures already counted here but not yet in a row,
 * and the prepared-transaction ring, are lost at a crash.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "queue.h"

/* pending failures by message: open addressing, probes bounded */
#define PENDING_SLOTS 16384
#define PENDING_MAX_PROBE 64
/* deliveries of prepared transactions */
#define PREPARED_RING_SIZE 4096

typedef struct PendingFailure
{
	Oid			dbid;			/* InvalidOid: never used */
	Oid			relid;
	int64		id;
	int32		failures;		/* failed deliveries to add */
	int32		at_least;		/* from a crash: the count should reach this */
} PendingFailure;

/* a slot with nothing to count is free again */
#define PENDING_FREE(slot) ((slot)->failures == 0 && (slot)->at_least == 0)

typedef struct PreparedDelivery
{
	Oid			dbid;
	Oid			relid;
	int64		id;
	TransactionId xid;
} PreparedDelivery;

/*
 * One LWLock guards the table and the ring: it is held to scan them (the
 * worker takes the failures of its database from all 16,384 slots, an
 * aborting transaction adds each of its deliveries), which is more than a
 * spinlock is for.  The hot path does not take it: a read looks at
 * npending first, and takes the lock only while some failure is pending.
 */
typedef struct DeliveriesShared
{
	LWLock	   *lock;
	pg_atomic_uint32 npending;	/* slots not free */
	pg_atomic_uint64 dropped;	/* failures that found no room */
	uint64		prepared_head;
	uint64		prepared_tail;
	PreparedDelivery prepared[PREPARED_RING_SIZE];
	PendingFailure pending[PENDING_SLOTS];
} DeliveriesShared;

static DeliveriesShared *shared = NULL;

/* what this backend handed out in its current transaction */
typedef struct HandedOut
{
	Oid			relid;
	int			nest_level;
	int64		id;
	int32		taken;			/* pending failures it took over */
	bool		count_failure;	/* false for pop: at-most-once, only wake */
} HandedOut;

static HandedOut *handed = NULL;
static int	nhanded = 0;
static int	handed_size = 0;

PG_FUNCTION_INFO_V1(queue_failed_deliveries_sql);
PG_FUNCTION_INFO_V1(queue_requeue_failure_sql);

static void deliveries_xact_callback(XactEvent event, void *arg);
static void deliveries_subxact_callback(SubXactEvent event,
										SubTransactionId mySubid,
										SubTransactionId parentSubid,
										void *arg);

void
queue_deliveries_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(DeliveriesShared)));
	RequestNamedLWLockTranche("queue deliveries", 1);
}

void
queue_deliveries_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("queue failed deliveries", sizeof(DeliveriesShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(DeliveriesShared));
		shared->lock = &(GetNamedLWLockTranche("queue deliveries"))->lock;
		pg_atomic_init_u32(&shared->npending, 0);
		pg_atomic_init_u64(&shared->dropped, 0);
	}
	LWLockRelease(AddinShmemInitLock);

	/* made anew (start, or restart after a crash): what the crash cut off */
	if (!found && !IsUnderPostmaster)
		queue_journal_load();
}

/*
 * queue_deliveries_init
 *		Register the transaction callbacks (_PG_init).
 */
void
queue_deliveries_init(void)
{
	RegisterXactCallback(deliveries_xact_callback, NULL);
	RegisterSubXactCallback(deliveries_subxact_callback, NULL);
}

/*
 * pending_slot
 *		The slot of a message, or a free one for it when create is true;
 *		NULL when there is none within PENDING_MAX_PROBE slots of its hash
 *		(emptied slots are reused, so that a long-running server does not
 *		end up probing the whole table).  Caller holds the lock.
 */
static PendingFailure *
pending_slot(Oid dbid, Oid relid, int64 id, bool create)
{
	uint32		h = hash_combine(queue_table_hash(dbid, relid),
								 hash_bytes((const unsigned char *) &id, sizeof(id)));
	PendingFailure *free_slot = NULL;
	int			i;

	for (i = 0; i < PENDING_MAX_PROBE; i++)
	{
		PendingFailure *slot = &shared->pending[(h + i) % PENDING_SLOTS];

		if (slot->dbid == InvalidOid)
		{
			/* the end of the probe sequence: the key is not there */
			if (!create)
				return NULL;
			return free_slot ? free_slot : slot;
		}
		if (slot->dbid == dbid && slot->relid == relid && slot->id == id)
			return slot;
		if (PENDING_FREE(slot) && free_slot == NULL)
			free_slot = slot;
	}
	return create ? free_slot : NULL;
}

/*
 * pending_add
 *		Add failed deliveries of a message, and (from a crash, see
 *		journal.c) the count it should reach at least, what it lacks of
 *		that being failed deliveries too.  Caller holds the lock.
 */
static void
pending_add(Oid dbid, Oid relid, int64 id, int32 failures, int32 at_least)
{
	PendingFailure *slot;

	if (failures <= 0 && at_least <= 0)
		return;					/* nothing to count: leave no slot taken */
	slot = pending_slot(dbid, relid, id, true);
	if (slot == NULL)
	{
		pg_atomic_fetch_add_u64(&shared->dropped, Max(failures, 1));
		return;
	}
	if (PENDING_FREE(slot))
	{
		slot->dbid = dbid;
		slot->relid = relid;
		slot->id = id;
		pg_atomic_fetch_add_u32(&shared->npending, 1);
	}
	slot->failures += failures;
	slot->at_least = Max(slot->at_least, at_least);
}

/*
 * pending_owed
 *		The failed deliveries of a slot for a row whose delivery_count is
 *		count: the ones counted, and what the count lacks of at_least.
 */
static int32
pending_owed(PendingFailure *slot, int32 count)
{
	return slot->failures + Max(0, slot->at_least - count);
}

/*
 * pending_take
 *		Take the pending failures of a message whose row has delivery_count
 *		count (or only look at them).  Caller holds the lock.
 */
static int32
pending_take(Oid dbid, Oid relid, int64 id, int32 count, bool take)
{
	PendingFailure *slot = pending_slot(dbid, relid, id, false);
	int32		failures;

	if (slot == NULL || PENDING_FREE(slot))
		return 0;
	failures = pending_owed(slot, count);
	if (take)
	{
		slot->failures = 0;
		slot->at_least = 0;
		pg_atomic_fetch_sub_u32(&shared->npending, 1);
	}
	return failures;
}

/*
 * queue_pending_failures
 *		Failed deliveries of a message not yet in its delivery_count (which
 *		is count in the row the caller holds); with take, they are handed
 *		over to the caller, who writes them into the row (and gives them
 *		back if its transaction rolls back: see queue_note_delivery).
 */
int32
queue_pending_failures(Oid relid, int64 id, int32 count, bool take)
{
	int32		failures;

	if (shared == NULL || pg_atomic_read_u32(&shared->npending) == 0)
		return 0;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	failures = pending_take(MyDatabaseId, relid, id, count, take);
	LWLockRelease(shared->lock);
	return failures;
}

/*
 * queue_pending_restore
 *		A delivery of a transaction a crash interrupted, which wrote count
 *		into the message's row (journal.c, in the postmaster).
 */
void
queue_pending_restore(Oid dbid, Oid relid, int64 id, int32 count)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	pending_add(dbid, relid, id, 0, count);
	LWLockRelease(shared->lock);
}

/*
 * queue_note_delivery
 *		Remember that this transaction handed out a message, writing count
 *		into its delivery_count and taking over 'taken' pending failures
 *		(or, for pop, took it away: a rollback makes it visible again, and
 *		readers waiting for it must be woken, but that does not count as a
 *		failed delivery).  The caller calls queue_journal_flush before the
 *		rows leave.
 */
void
queue_note_delivery(Oid relid, int64 id, int32 taken, bool count_failure,
					int32 count)
{
	if (shared == NULL)
		return;					/* not preloaded: nobody would count them */
	if (count_failure)
		queue_journal_note(relid, id, count);
	if (nhanded == handed_size)
	{
		int			newsize = Max(64, handed_size * 2);

		if (handed == NULL)
			handed = MemoryContextAlloc(TopMemoryContext, newsize * sizeof(HandedOut));
		else
			handed = repalloc(handed, newsize * sizeof(HandedOut));
		handed_size = newsize;
	}
	handed[nhanded].relid = relid;
	handed[nhanded].nest_level = GetCurrentTransactionNestLevel();
	handed[nhanded].id = id;
	handed[nhanded].taken = taken;
	handed[nhanded].count_failure = count_failure;
	nhanded++;
}

/*
 * report_failed
 *		The deliveries from index 'from' on failed (xid invalid), or will
 *		have failed if prepared transaction xid rolls back.  Runs in abort
 *		processing, so it must not fail: what finds no room is dropped and
 *		counted.
 */
static void
report_failed(int from, TransactionId xid)
{
	int			i;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (i = from; i < nhanded; i++)
	{
		if (!handed[i].count_failure)
			continue;
		if (!TransactionIdIsValid(xid))
			pending_add(MyDatabaseId, handed[i].relid, handed[i].id,
						1 + handed[i].taken, 0);
		else if (shared->prepared_head - shared->prepared_tail < PREPARED_RING_SIZE)
		{
			PreparedDelivery *item =
				&shared->prepared[shared->prepared_head++ % PREPARED_RING_SIZE];

			item->dbid = MyDatabaseId;
			item->relid = handed[i].relid;
			item->id = handed[i].id;
			item->xid = xid;
		}
		else
			pg_atomic_fetch_add_u64(&shared->dropped, 1);
	}
	LWLockRelease(shared->lock);

	/* those messages are visible again now */
	if (!TransactionIdIsValid(xid))
		for (i = from; i < nhanded; i++)
			queue_wake_waiters(handed[i].relid, 1);
}

static void
deliveries_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			nhanded = 0;
			queue_journal_end_xact();
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* the outcome comes later, maybe in another backend */
			if (nhanded > 0 && shared != NULL)
				report_failed(0, GetTopTransactionIdIfAny());
			nhanded = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (nhanded > 0 && shared != NULL)
				report_failed(0, InvalidTransactionId);
			nhanded = 0;
			queue_journal_end_xact();
			break;
		default:
			break;
	}
}

/*
 * deliveries_subxact_callback
 *		Deliveries of a committed subtransaction belong to its parent; those
 *		of a rolled-back one failed.  Deliveries are noted in order, so the
 *		ones of the current subtransaction are at the end.
 */
static void
deliveries_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			first;

	if (nhanded == 0)
		return;
	for (first = nhanded; first > 0 && handed[first - 1].nest_level >= level; first--)
		;
	if (first == nhanded)
		return;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		int			i;

		for (i = first; i < nhanded; i++)
			handed[i].nest_level = level - 1;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		if (shared != NULL)
			report_failed(first, InvalidTransactionId);
		nhanded = first;
	}
}

/*
 * queue._failed_deliveries(max integer)
 *		RETURNS TABLE (relid oid, id bigint, failures integer, at_least integer)
 *
 * For the worker: take the pending failures of up to max messages of the
 * current database; the worker raises each one's delivery_count to
 * greatest(delivery_count + failures, at_least + failures), at_least being
 * 0 but for deliveries a crash interrupted (journal.c).  Deliveries of
 * prepared transactions that rolled back become failures first; those of
 * prepared transactions that committed are forgotten.  Declared with three
 * columns (the SQL of 0.3.0 and before, until ALTER EXTENSION UPDATE), it
 * leaves the messages with at_least to their next read.
 */
Datum
queue_failed_deliveries_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		max = PG_GETARG_INT32(0);
	PendingFailure *mine;
	PreparedDelivery *undecided;
	int			nmine = 0;
	int			nundecided = 0;
	uint64		n;
	int			i;

	bool		with_at_least;

	InitMaterializedSRF(fcinfo, 0);
	with_at_least = (rsinfo->setDesc->natts >= 4);
	if (shared == NULL || max <= 0)
		return (Datum) 0;

	mine = palloc(sizeof(PendingFailure) * max);
	undecided = palloc(sizeof(PreparedDelivery) * PREPARED_RING_SIZE);

	/*
	 * Prepared transactions first (their status is read without the lock:
	 * TransactionIdIsInProgress takes ProcArrayLock).
	 */
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	n = shared->prepared_head - shared->prepared_tail;
	for (i = 0; i < n; i++)
		undecided[i] = shared->prepared[(shared->prepared_tail + i) % PREPARED_RING_SIZE];
	shared->prepared_tail = shared->prepared_head;
	LWLockRelease(shared->lock);

	for (i = 0; i < n; i++)
	{
		PreparedDelivery *item = &undecided[i];

		if (item->dbid == MyDatabaseId && !TransactionIdIsInProgress(item->xid))
		{
			if (TransactionIdDidAbort(item->xid))
			{
				LWLockAcquire(shared->lock, LW_EXCLUSIVE);
				pending_add(item->dbid, item->relid, item->id, 1, 0);
				LWLockRelease(shared->lock);
			}
			continue;			/* decided: done with it */
		}
		undecided[nundecided++] = *item;
	}

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (i = 0; i < nundecided; i++)
	{
		if (shared->prepared_head - shared->prepared_tail >= PREPARED_RING_SIZE)
		{
			pg_atomic_fetch_add_u64(&shared->dropped, 1);
			continue;
		}
		shared->prepared[shared->prepared_head++ % PREPARED_RING_SIZE] = undecided[i];
	}
	for (i = 0; i < PENDING_SLOTS && nmine < max; i++)
	{
		PendingFailure *slot = &shared->pending[i];

		if (slot->dbid == MyDatabaseId && !PENDING_FREE(slot) &&
			(with_at_least || slot->at_least == 0))
		{
			mine[nmine++] = *slot;
			slot->failures = 0;
			slot->at_least = 0;
			pg_atomic_fetch_sub_u32(&shared->npending, 1);
		}
	}
	LWLockRelease(shared->lock);

	for (i = 0; i < nmine; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = ObjectIdGetDatum(mine[i].relid);
		values[1] = Int64GetDatum(mine[i].id);
		values[2] = Int32GetDatum(mine[i].failures);
		values[3] = Int32GetDatum(mine[i].at_least);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * queue._requeue_failure(relid oid, id bigint, failures integer,
 *						  at_least integer DEFAULT 0)
 *		Give failures back for a later step: the worker does not count them
 *		while the message is handed out to someone else (that would
 *		invalidate the receipt they hold) or locked by a consumer.  (0.3.0
 *		and before declare it without at_least.)
 */
Datum
queue_requeue_failure_sql(PG_FUNCTION_ARGS)
{
	int32		at_least = PG_NARGS() > 3 ? PG_GETARG_INT32(3) : 0;

	if (shared == NULL)
		PG_RETURN_VOID();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	pending_add(MyDatabaseId, PG_GETARG_OID(0), PG_GETARG_INT64(1), PG_GETARG_INT32(2),
				at_least);
	LWLockRelease(shared->lock);
	PG_RETURN_VOID();
}

/*
 * queue_failures_dropped
 *		How many failed deliveries were lost because a table was full.
 */
int64
queue_failures_dropped(void)
{
	if (shared == NULL)
		return 0;
	return (int64) pg_atomic_read_u64(&shared->dropped);
}
