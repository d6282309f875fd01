/*-------------------------------------------------------------------------
 *
 * wait.c
 *		Long polling: readers sleep until a message may be visible.
 *
 * Shared memory holds a fixed array of condition variables; a queue maps
 * to one of them by hashing its database and table OIDs (two queues that
 * share a slot only cost each other a spurious wakeup).  A reader that
 * finds nothing sleeps on its queue's slot, holding no row locks, until
 * its wait runs out.  It is woken
 *
 *	- after commit, by any transaction that made messages of the queue
 *	  visible: sends, nacks and redrives (counters.c collects them per
 *	  transaction and calls queue_wake_waiters from its commit callback, so
 *	  a rolled-back send wakes nobody);
 *	- at abort, by a transaction whose reads roll back (deliveries.c), since
 *	  those messages are visible again at once;
 *	- by the background worker, when a delayed message or an expired
 *	  visibility timeout has made a message visible on a queue that has
 *	  sleepers;
 *	- by query cancel, statement_timeout and shutdown, which
 *	  ConditionVariableTimedSleep checks for.
 *
 * One new message wakes one sleeper (ConditionVariableSignal), so that
 * many sleepers on one queue do not stampede; a batch wakes as many as it
 * has messages, up to WAKE_ALL_AT, and beyond that all of them.  When
 * sleepers of several queues share a slot, every wakeup is a broadcast, so
 * that none is lost on a sleeper of the wrong queue.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/wait_event.h"

#include "queue.h"

#define WAIT_SLOTS 1024
#define WAKE_ALL_AT 8

/* a slot's owner when sleepers of several queues share it */
#define SLOT_SHARED 0xFFFFFFFF

typedef struct WaitSlot
{
	ConditionVariable cv;
	pg_atomic_uint32 sleepers;
	pg_atomic_uint32 owner;		/* relid of the sleepers, 0, or SLOT_SHARED */
} WaitSlot;

static WaitSlot *wait_slots = NULL;

/* the slot this backend sleeps on, for cleanup at exit */
static WaitSlot *my_slot = NULL;
static bool cleanup_registered = false;

PG_FUNCTION_INFO_V1(queue_has_sleepers_sql);
PG_FUNCTION_INFO_V1(queue_sleepers_sql);

static void queue_wait_cleanup(int code, Datum arg);
PG_FUNCTION_INFO_V1(queue_wake_sql);

void
queue_wait_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(WaitSlot) * WAIT_SLOTS));
}

void
queue_wait_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wait_slots = ShmemInitStruct("queue wait slots", sizeof(WaitSlot) * WAIT_SLOTS,
								 &found);
	if (!found)
	{
		int			i;

		for (i = 0; i < WAIT_SLOTS; i++)
		{
			ConditionVariableInit(&wait_slots[i].cv);
			pg_atomic_init_u32(&wait_slots[i].sleepers, 0);
			pg_atomic_init_u32(&wait_slots[i].owner, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

static WaitSlot *
slot_of(Oid relid)
{
	return &wait_slots[queue_table_hash(MyDatabaseId, relid) % WAIT_SLOTS];
}

/*
 * queue_wake_waiters
 *		Wake sleepers of a queue that now has n more visible messages.
 */
void
queue_wake_waiters(Oid relid, int64 n)
{
	WaitSlot   *slot;

	if (wait_slots == NULL || n <= 0)
		return;
	slot = slot_of(relid);
	if (pg_atomic_read_u32(&slot->sleepers) == 0)
		return;

	/*
	 * A signal could wake a sleeper of another queue that shares the slot,
	 * which would find nothing and sleep on, while ours slept through: wake
	 * them all then.
	 */
	if (n >= WAKE_ALL_AT || pg_atomic_read_u32(&slot->owner) != (uint32) relid)
		ConditionVariableBroadcast(&slot->cv);
	else
	{
		while (n-- > 0)
			ConditionVariableSignal(&slot->cv);
	}
}

/*
 * queue_wait_check
 *		Refuse a wait that cannot work: it needs a new snapshot for every
 *		look at the queue, which REPEATABLE READ and SERIALIZABLE do not
 *		give.  Checked before the first look, so that the error does not
 *		depend on whether a message happens to be visible.
 */
void
queue_wait_check(void)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("queue.read with wait needs READ COMMITTED"),
				 errdetail("In REPEATABLE READ and SERIALIZABLE a transaction keeps its snapshot, so it would never see a message sent while it waits."),
				 errhint("Read with wait outside such a transaction, or without wait.")));
}

/*
 * queue_wait_begin / queue_wait_sleep / queue_wait_end
 *		The sleep of a reader: begin before the last look at the queue (so
 *		that a commit between that look and the sleep is not missed), then
 *		sleep at most timeout_ms per call, then end.  Without shared memory
 *		(library not preloaded) the sleep is a plain timed wait of at most
 *		100 ms between looks.
 */
void
queue_wait_begin(Oid relid)
{
	WaitSlot   *slot;
	uint32		expected = 0;

	if (wait_slots == NULL)
		return;
	if (!cleanup_registered)
	{
		before_shmem_exit(queue_wait_cleanup, (Datum) 0);
		cleanup_registered = true;
	}
	slot = slot_of(relid);
	my_slot = slot;
	pg_atomic_fetch_add_u32(&slot->sleepers, 1);
	if (!pg_atomic_compare_exchange_u32(&slot->owner, &expected, (uint32) relid) &&
		expected != (uint32) relid)
		pg_atomic_write_u32(&slot->owner, SLOT_SHARED);
	ConditionVariablePrepareToSleep(&slot->cv);
}

void
queue_wait_sleep(Oid relid, long timeout_ms)
{
	if (timeout_ms <= 0)
		return;
	if (wait_slots == NULL)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(timeout_ms, 100), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		return;
	}
	(void) ConditionVariableTimedSleep(&slot_of(relid)->cv, timeout_ms, PG_WAIT_EXTENSION);
}

/*
 * queue_wait_end
 *		Leave the slot; the last sleeper to leave clears its owner.
 */
void
queue_wait_end(void)
{
	WaitSlot   *slot = my_slot;

	if (wait_slots == NULL || slot == NULL)
		return;
	my_slot = NULL;
	ConditionVariableCancelSleep();
	if (pg_atomic_sub_fetch_u32(&slot->sleepers, 1) == 0)
		pg_atomic_write_u32(&slot->owner, 0);
}

/*
 * queue_wait_cleanup
 *		A backend terminated while it slept (FATAL skips PG_FINALLY) leaves
 *		its slot here.
 */
static void
queue_wait_cleanup(int code, Datum arg)
{
	queue_wait_end();
}

/*
 * queue._has_sleepers(relid oid) RETURNS boolean
 *		Whether readers may be sleeping on a queue (for the worker).
 */
Datum
queue_has_sleepers_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(queue_has_sleepers(PG_GETARG_OID(0)));
}

/*
 * queue._sleepers(relid oid) RETURNS integer
 *		How many long polls wait on a queue (queue.health): exact while
 *		no other queue's readers share its slot, otherwise how many wait
 *		on the slot (at most that many).
 */
Datum
queue_sleepers_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	WaitSlot   *slot;
	uint32		owner;

	if (wait_slots == NULL)
		PG_RETURN_INT32(0);
	slot = slot_of(relid);
	owner = pg_atomic_read_u32(&slot->owner);
	if (owner != (uint32) relid && owner != SLOT_SHARED)
		PG_RETURN_INT32(0);
	PG_RETURN_INT32((int32) pg_atomic_read_u32(&slot->sleepers));
}

bool
queue_has_sleepers(Oid relid)
{
	if (wait_slots == NULL)
		return false;
	return pg_atomic_read_u32(&slot_of(relid)->sleepers) > 0;
}

/*
 * queue._wake(relid oid) RETURNS void
 *		Wake every sleeper of a queue (the worker, when messages came due).
 */
Datum
queue_wake_sql(PG_FUNCTION_ARGS)
{
	queue_wake_waiters(PG_GETARG_OID(0), WAKE_ALL_AT);
	PG_RETURN_VOID();
}
