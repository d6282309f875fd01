/*-------------------------------------------------------------------------
 *
 * prepared.c
 *		Wakeups of transactions that commit through COMMIT PREPARED.
 *
 * A transaction's sends, nacks and redrives wake the long polls of their
 * queues when it commits (counters.c), and a CREATE EXTENSION asks the
 * launcher to start the database's worker (worker.c).  A prepared
 * transaction commits later, maybe from another session, through COMMIT
 * PREPARED, where no callback of the backend that prepared it runs: its
 * sleepers were woken only by the worker's next step, and a new database's
 * worker started at the launcher's next probe (a minute).  Two-phase commit
 * is what XA transaction managers and Citus use for every transaction that
 * writes to more than one node.
 *
 * So PREPARE TRANSACTION keeps, in shared memory under its gid, what its
 * commit would wake (each queue and how many messages it made visible, and
 * whether the launcher should look for new databases) and the read
 * positions' notes (a nack's rescan, an ordered ack's rewind: a read
 * between PREPARE and COMMIT PREPARED sees the rows as they were and may
 * move the position past them), and COMMIT PREPARED
 * wakes them once the commit is done (a ProcessUtility hook, after the
 * statement returned); ROLLBACK PREPARED forgets them.  The gid of PREPARE
 * TRANSACTION is known to the hook, the transaction's wakeups to the
 * PREPARE callback of counters.c and worker.c, which runs later in the same
 * statement.  When the table is full (or after a restart, which loses it),
 * the worker's step still wakes the sleepers, as before.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"

#include "queue.h"

#define PREPARED_WAKEUPS 256

typedef struct PreparedWakeup
{
	Oid			dbid;			/* InvalidOid: a free entry */
	Oid			relid;			/* InvalidOid: wake the launcher */
	int64		n;				/* messages made visible */
	int64		rewind_to;		/* the position notes of counters.c */
	bool		rewind_head;
	TimestampTz rescan_at;
	bool		own_expiry;		/* messages with an expiry of their own */
	char		gid[GIDSIZE];
} PreparedWakeup;

typedef struct PreparedShared
{
	LWLock	   *lock;
	PreparedWakeup entries[PREPARED_WAKEUPS];
} PreparedShared;

static PreparedShared *prepared = NULL;

/* the gid of the PREPARE TRANSACTION this backend is running */
static char preparing_gid[GIDSIZE];

static ProcessUtility_hook_type prev_process_utility = NULL;

static void queue_process_utility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);
static void prepared_finish(const char *gid, bool commit);

void
queue_prepared_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(PreparedShared)));
	RequestNamedLWLockTranche("queue prepared", 1);
}

void
queue_prepared_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	prepared = ShmemInitStruct("queue prepared wakeups", sizeof(PreparedShared), &found);
	if (!found)
	{
		memset(prepared->entries, 0, sizeof(prepared->entries));
		prepared->lock = &(GetNamedLWLockTranche("queue prepared"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * queue_prepared_init
 *		Install the ProcessUtility hook (_PG_init).
 */
void
queue_prepared_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = queue_process_utility;
}

/*
 * queue_prepared_keep
 *		Called by the PREPARE callbacks: the transaction being prepared
 *		made n messages of relid visible and noted these position changes
 *		(relid InvalidOid: it asks the launcher to look for new databases).
 *		Kept under its gid for COMMIT PREPARED; dropped when there is no
 *		room (the worker's step and the positions' minute backstop then
 *		do it later).
 */
void
queue_prepared_keep(Oid relid, int64 n, int64 rewind_to, bool rewind_head,
					TimestampTz rescan_at, bool own_expiry)
{
	int			i;

	if (prepared == NULL || preparing_gid[0] == '\0')
		return;
	LWLockAcquire(prepared->lock, LW_EXCLUSIVE);
	for (i = 0; i < PREPARED_WAKEUPS; i++)
	{
		PreparedWakeup *w = &prepared->entries[i];

		if (w->dbid == InvalidOid)
		{
			w->dbid = MyDatabaseId;
			w->relid = relid;
			w->n = n;
			w->rewind_to = rewind_to;
			w->rewind_head = rewind_head;
			w->rescan_at = rescan_at;
			w->own_expiry = own_expiry;
			strlcpy(w->gid, preparing_gid, GIDSIZE);
			break;
		}
	}
	LWLockRelease(prepared->lock);
}

/*
 * prepared_finish
 *		After COMMIT PREPARED of gid: wake what it made visible, and the
 *		launcher if it asked for it; after ROLLBACK PREPARED, forget it.
 */
static void
prepared_finish(const char *gid, bool commit)
{
	PreparedWakeup wake[PREPARED_WAKEUPS];
	int			nwake = 0;
	bool		launcher = false;
	int			i;

	if (prepared == NULL)
		return;
	LWLockAcquire(prepared->lock, LW_EXCLUSIVE);
	for (i = 0; i < PREPARED_WAKEUPS; i++)
	{
		PreparedWakeup *w = &prepared->entries[i];

		if (w->dbid != MyDatabaseId || strcmp(w->gid, gid) != 0)
			continue;
		if (!OidIsValid(w->relid))
			launcher = true;
		else
			wake[nwake++] = *w;
		w->dbid = InvalidOid;
	}
	LWLockRelease(prepared->lock);

	if (!commit)
		return;
	for (i = 0; i < nwake; i++)
	{
		/*
		 * The position notes again: a read between PREPARE and now may
		 * have passed a row the transaction changed (it saw the old
		 * version), as after any commit
		 */
		if (wake[i].rewind_to != PG_INT64_MAX)
			queue_position_rewind(wake[i].relid, wake[i].rewind_to, wake[i].rewind_head);
		if (wake[i].rescan_at != DT_NOEND)
			queue_position_rescan_at(wake[i].relid, wake[i].rescan_at);
		if (wake[i].own_expiry)
			queue_expiry_headers_mark(wake[i].relid);
		queue_wake_waiters(wake[i].relid, wake[i].n);
	}
	if (launcher)
		queue_worker_wake_launcher();
}

static void
queue_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	TransactionStmt *stmt = NULL;
	char		gid[GIDSIZE];

	queue_placement_check_utility(pstmt->utilityStmt);
	if (IsA(pstmt->utilityStmt, TransactionStmt))
	{
		stmt = (TransactionStmt *) pstmt->utilityStmt;
		if (stmt->gid != NULL)
			strlcpy(gid, stmt->gid, GIDSIZE);
		/* the transaction is prepared when the statement ends; its
		 * PREPARE callbacks run then and use this */
		if (stmt->kind == TRANS_STMT_PREPARE && stmt->gid != NULL)
			strlcpy(preparing_gid, stmt->gid, GIDSIZE);
	}

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	if (stmt != NULL && stmt->gid != NULL &&
		(stmt->kind == TRANS_STMT_COMMIT_PREPARED ||
		 stmt->kind == TRANS_STMT_ROLLBACK_PREPARED))
		prepared_finish(gid, stmt->kind == TRANS_STMT_COMMIT_PREPARED);
}
