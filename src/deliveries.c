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
 * when the (sub)transaction that read them aborts, it passes them through
 * a ring in shared memory to the background worker, which counts the
 * failed delivery in a transaction of its own and dead-letters the message
 * once it has been delivered max_deliveries times.  Needs the library
 * preloaded; the ring is not crash-safe (a server crash forgets the
 * failures not yet counted).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "storage/procarray.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "queue.h"

#define FAILED_RING_SIZE 65536

typedef struct FailedDelivery
{
	Oid			dbid;
	Oid			relid;
	int64		id;
	TransactionId xid;			/* valid: failed only if this prepared
								 * transaction rolls back */
} FailedDelivery;

typedef struct FailedRing
{
	slock_t		mutex;
	uint64		head;			/* next slot to write */
	uint64		tail;			/* next slot to read */
	uint64		dropped;		/* failures lost because the ring was full */
	FailedDelivery items[FAILED_RING_SIZE];
} FailedRing;

static FailedRing *ring = NULL;

/* what this backend handed out in its current transaction */
typedef struct HandedOut
{
	Oid			relid;
	int			nest_level;
	int64		id;
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
	RequestAddinShmemSpace(MAXALIGN(sizeof(FailedRing)));
}

void
queue_deliveries_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ring = ShmemInitStruct("queue failed deliveries", sizeof(FailedRing), &found);
	if (!found)
	{
		SpinLockInit(&ring->mutex);
		ring->head = ring->tail = ring->dropped = 0;
	}
	LWLockRelease(AddinShmemInitLock);
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
 * queue_note_delivery
 *		Remember that this transaction handed out a message (or, for pop,
 *		took messages away: a rollback makes them visible again, and
 *		readers waiting for them must be woken, but the delivery does not
 *		count as a failed one).
 */
void
queue_note_delivery(Oid relid, int64 id, bool count_failure)
{
	if (ring == NULL)
		return;					/* not preloaded: nobody would count them */
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
	handed[nhanded].count_failure = count_failure;
	nhanded++;
}

/*
 * report_failed
 *		Hand the deliveries from index 'from' on to the worker.  Runs in
 *		abort processing, so it must not fail: a full ring drops them and
 *		says how many in queue.worker_status.
 */
static void
report_failed(int from, TransactionId xid)
{
	int			i;

	SpinLockAcquire(&ring->mutex);
	for (i = from; i < nhanded; i++)
	{
		if (!handed[i].count_failure)
			continue;
		if (ring->head - ring->tail >= FAILED_RING_SIZE)
		{
			ring->dropped++;
			continue;
		}
		ring->items[ring->head % FAILED_RING_SIZE].dbid = MyDatabaseId;
		ring->items[ring->head % FAILED_RING_SIZE].relid = handed[i].relid;
		ring->items[ring->head % FAILED_RING_SIZE].id = handed[i].id;
		ring->items[ring->head % FAILED_RING_SIZE].xid = xid;
		ring->head++;
	}
	SpinLockRelease(&ring->mutex);

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
			break;
		case XACT_EVENT_PRE_PREPARE:
			/* the outcome comes later, maybe in another backend */
			if (nhanded > 0 && ring != NULL)
				report_failed(0, GetTopTransactionIdIfAny());
			nhanded = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (nhanded > 0 && ring != NULL)
				report_failed(0, InvalidTransactionId);
			nhanded = 0;
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
		if (ring != NULL)
			report_failed(first, InvalidTransactionId);
		nhanded = first;
	}
}

/*
 * queue._failed_deliveries(max integer)
 *		RETURNS TABLE (relid oid, id bigint)
 *
 * Take up to max failed deliveries of the current database off the ring,
 * for the worker.  Entries of other databases, and of prepared
 * transactions not yet committed or rolled back, are put back at the head;
 * those of prepared transactions that committed are dropped.
 */
Datum
queue_failed_deliveries_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		max = PG_GETARG_INT32(0);
	FailedDelivery *mine;
	FailedDelivery *others;
	int			nmine = 0;
	int			nothers = 0;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (ring == NULL || max <= 0)
		return (Datum) 0;

	mine = palloc(sizeof(FailedDelivery) * max);
	others = palloc(sizeof(FailedDelivery) * max);
	SpinLockAcquire(&ring->mutex);
	while (ring->tail < ring->head && nmine < max && nothers < max)
	{
		FailedDelivery *item = &ring->items[ring->tail % FAILED_RING_SIZE];

		ring->tail++;
		if (item->dbid != MyDatabaseId ||
			(TransactionIdIsValid(item->xid) && TransactionIdIsInProgress(item->xid)))
			others[nothers++] = *item;	/* not ours, or not decided yet */
		else if (!TransactionIdIsValid(item->xid) || TransactionIdDidAbort(item->xid))
			mine[nmine++] = *item;
		/* else: the prepared transaction committed, nothing failed */
	}
	/* others go back (the ring has room: they were just taken off it) */
	for (i = 0; i < nothers; i++)
	{
		ring->items[ring->head % FAILED_RING_SIZE] = others[i];
		ring->head++;
	}
	SpinLockRelease(&ring->mutex);

	for (i = 0; i < nmine; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = ObjectIdGetDatum(mine[i].relid);
		values[1] = Int64GetDatum(mine[i].id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * queue_failures_dropped
 *		How many failed deliveries were lost because the ring was full.
 */
int64
queue_failures_dropped(void)
{
	int64		dropped;

	if (ring == NULL)
		return 0;
	SpinLockAcquire(&ring->mutex);
	dropped = (int64) ring->dropped;
	SpinLockRelease(&ring->mutex);
	return dropped;
}

/*
 * queue._requeue_failure(relid oid, id bigint)
 *		Put a failed delivery back for a later step: the worker does not
 *		count it while the message is handed out to someone else (that
 *		would invalidate the receipt they hold) or locked by a consumer.
 */
Datum
queue_requeue_failure_sql(PG_FUNCTION_ARGS)
{
	if (ring == NULL)
		PG_RETURN_VOID();
	SpinLockAcquire(&ring->mutex);
	if (ring->head - ring->tail < FAILED_RING_SIZE)
	{
		FailedDelivery *item = &ring->items[ring->head % FAILED_RING_SIZE];

		item->dbid = MyDatabaseId;
		item->relid = PG_GETARG_OID(0);
		item->id = PG_GETARG_INT64(1);
		item->xid = InvalidTransactionId;
		ring->head++;
	}
	else
		ring->dropped++;
	SpinLockRelease(&ring->mutex);
	PG_RETURN_VOID();
}
