/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background worker: a launcher and one worker per database.
 *
 * With shared_preload_libraries = 'queue', a launcher (a static background
 * worker, connected to no database, so it can read only pg_database) starts
 * one dynamic worker for every database that allows connections and is
 * not a template.  A worker whose database has no queue extension says so
 * in shared memory and exits; the launcher probes such databases again
 * once a minute, and at once when CREATE EXTENSION queue wakes it.  A
 * worker whose database has the extension runs queue._worker_step() every
 * queue.worker_interval in a short transaction of its own (the worker_spi
 * bracket): it counts deliveries whose reading transaction rolled back
 * (deliveries.c), dead-letters messages delivered max_deliveries times
 * whose last delivery timed out, and deletes archived messages past their
 * retention, each in bounded batches.
 *
 * DROP DATABASE and the other commands that need a database to
 * themselves stop its worker first (a ProcessUtility hook), and the
 * launcher leaves the database alone for ten seconds.
 *
 * Both processes start only once recovery is finished, so nothing runs
 * (or writes) on a hot standby, and both start when it is promoted.  They
 * reload their settings on SIGHUP and exit on SIGTERM; the postmaster
 * restarts the launcher after a crash, and the launcher restarts workers.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "queue.h"

#define MAX_WORKER_DATABASES 128

/* seconds before a database without the extension is probed again */
#define PROBE_INTERVAL 60

/* the launcher looks for databases to serve at least this often (ms) */
#define LAUNCHER_NAP_MS 10000

/* seconds a database's worker stays away after DROP DATABASE and the like
 * asked it to leave */
#define RELEASE_PAUSE_SECS 10

/* how long a step waits for a queue's table lock before it leaves that
 * queue to the next step (DDL wins over the worker) */
#define STEP_LOCK_TIMEOUT "50ms"

/* bytes of the last failed step's message kept for queue.worker_status */
#define LAST_ERROR_LEN 128

typedef struct WorkerSlot
{
	Oid			dbid;			/* InvalidOid: free */
	pid_t		pid;			/* 0 when not running */
	bool		has_extension;	/* as of the last probe */
	TimestampTz last_probe;
	TimestampTz last_run;		/* end of the last step */
	TimestampTz paused_until;	/* not restarted before (DROP DATABASE) */
	int64		runs;
	int64		dead_lettered;
	int64		purged;
	int64		forgotten;
	int64		failures_counted;
	char		last_error[LAST_ERROR_LEN];
} WorkerSlot;

typedef struct WorkerShared
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	bool		rescan;			/* probe every database now */
	WorkerSlot	slots[MAX_WORKER_DATABASES];
} WorkerShared;

static WorkerShared *worker_shared = NULL;

static ProcessUtility_hook_type prev_process_utility = NULL;
static void queue_process_utility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree, ProcessUtilityContext context,
								  ParamListInfo params, QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);

PGDLLEXPORT void queue_launcher_main(Datum main_arg);
PGDLLEXPORT void queue_worker_main(Datum main_arg);

PG_FUNCTION_INFO_V1(queue_worker_wake_sql);
PG_FUNCTION_INFO_V1(queue_worker_status_sql);
PG_FUNCTION_INFO_V1(queue_preloaded_sql);

void
queue_worker_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
}

void
queue_worker_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_shared = ShmemInitStruct("queue worker", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(worker_shared, 0, sizeof(WorkerShared));
		SpinLockInit(&worker_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * queue_worker_register
 *		Register the launcher (_PG_init, when preloaded).
 */
void
queue_worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "queue", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "queue_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "queue launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "queue launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);

	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = queue_process_utility;
}

/*
 * slot_for
 *		The slot of a database, claimed if need be; NULL when all are taken.
 *		Caller holds the mutex.
 */
static WorkerSlot *
slot_for(Oid dbid, bool create)
{
	WorkerSlot *free_slot = NULL;
	int			i;

	for (i = 0; i < MAX_WORKER_DATABASES; i++)
	{
		WorkerSlot *slot = &worker_shared->slots[i];

		if (slot->dbid == dbid)
			return slot;
		if (slot->dbid == InvalidOid && free_slot == NULL)
			free_slot = slot;
	}
	if (!create || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(WorkerSlot));
	free_slot->dbid = dbid;
	return free_slot;
}

/* ---------------------------------------------------------------------
 * The launcher
 * ---------------------------------------------------------------------
 */

typedef struct LaunchedWorker
{
	Oid			dbid;
	BackgroundWorkerHandle *handle;
} LaunchedWorker;

static LaunchedWorker launched[MAX_WORKER_DATABASES];

/*
 * database_list
 *		The OIDs of the databases a worker may connect to, read from
 *		pg_database as autovacuum's launcher does.
 */
static List *
database_list(void)
{
	List	   *result = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	MemoryContext caller = CurrentMemoryContext;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old;

		if (!db->datallowconn || db->datistemplate)
			continue;
		old = MemoryContextSwitchTo(caller);
		result = lappend_oid(result, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/*
 * launched_for
 *		This launcher's record of the worker of a database.
 */
static LaunchedWorker *
launched_for(Oid dbid)
{
	LaunchedWorker *free_one = NULL;
	int			i;

	for (i = 0; i < MAX_WORKER_DATABASES; i++)
	{
		if (launched[i].dbid == dbid)
			return &launched[i];
		if (launched[i].dbid == InvalidOid && free_one == NULL)
			free_one = &launched[i];
	}
	if (free_one)
	{
		free_one->dbid = dbid;
		free_one->handle = NULL;
	}
	return free_one;
}

/*
 * start_worker
 *		Start the worker of one database.
 */
static void
start_worker(LaunchedWorker *lw)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "queue", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "queue_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "queue worker for database %u", lw->dbid);
	strlcpy(worker.bgw_type, "queue worker", BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(lw->dbid);
	worker.bgw_notify_pid = MyProcPid;

	if (lw->handle)
		pfree(lw->handle);
	lw->handle = NULL;
	if (!RegisterDynamicBackgroundWorker(&worker, &lw->handle))
	{
		lw->handle = NULL;
		ereport(LOG,
				(errmsg("queue launcher: could not start a worker for database %u", lw->dbid),
				 errhint("Raise max_worker_processes.")));
	}
}

/*
 * still_running
 *		Between two rounds of the launcher or a worker: serve interrupts and
 *		a configuration reload; false once shutdown was asked for.
 */
static bool
still_running(void)
{
	CHECK_FOR_INTERRUPTS();
	if (ShutdownRequestPending)
		return false;
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
	return true;
}

/*
 * launcher_scan
 *		Start a worker for every database that needs one and has none.
 */
static void
launcher_scan(bool probe_all)
{
	List	   *dbs = database_list();
	ListCell   *lc;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	foreach(lc, dbs)
	{
		Oid			dbid = lfirst_oid(lc);
		LaunchedWorker *lw = launched_for(dbid);
		WorkerSlot *slot;
		bool		due;
		pid_t		pid;

		if (lw == NULL)
			break;				/* more databases than slots */
		if (lw->handle != NULL &&
			GetBackgroundWorkerPid(lw->handle, &pid) != BGWH_STOPPED)
			continue;			/* running or starting */

		SpinLockAcquire(&worker_shared->mutex);
		slot = slot_for(dbid, true);
		/* a worker may survive from an earlier launcher */
		due = slot != NULL && (slot->pid == 0 || kill(slot->pid, 0) != 0) &&
			slot->paused_until <= now &&
			(probe_all || slot->has_extension ||
			 TimestampDifferenceExceeds(slot->last_probe, now, PROBE_INTERVAL * 1000));
		SpinLockRelease(&worker_shared->mutex);
		if (due)
			start_worker(lw);
	}

	/* forget databases that are gone */
	for (i = 0; i < MAX_WORKER_DATABASES; i++)
	{
		if (launched[i].dbid != InvalidOid && !list_member_oid(dbs, launched[i].dbid))
		{
			pid_t		pid;

			if (launched[i].handle == NULL ||
				GetBackgroundWorkerPid(launched[i].handle, &pid) == BGWH_STOPPED)
			{
				SpinLockAcquire(&worker_shared->mutex);
				{
					WorkerSlot *slot = slot_for(launched[i].dbid, false);

					if (slot)
						slot->dbid = InvalidOid;
				}
				SpinLockRelease(&worker_shared->mutex);
				launched[i].dbid = InvalidOid;
			}
		}
	}
	list_free(dbs);
}

void
queue_launcher_main(Datum main_arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	/* no database: only shared catalogs, which is all we read */
	BackgroundWorkerInitializeConnectionByOid(InvalidOid, InvalidOid, 0);

	SpinLockAcquire(&worker_shared->mutex);
	worker_shared->launcher_latch = &MyProc->procLatch;
	worker_shared->rescan = true;
	SpinLockRelease(&worker_shared->mutex);

	for (;;)
	{
		bool		rescan;

		if (!still_running())
			break;

		SpinLockAcquire(&worker_shared->mutex);
		rescan = worker_shared->rescan;
		worker_shared->rescan = false;
		SpinLockRelease(&worker_shared->mutex);

		launcher_scan(rescan);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAP_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	SpinLockAcquire(&worker_shared->mutex);
	worker_shared->launcher_latch = NULL;
	SpinLockRelease(&worker_shared->mutex);

	/* exit code 1: the postmaster starts the launcher again (unless it is
	 * shutting down), so a terminated launcher comes back */
	proc_exit(1);
}

/*
 * queue_worker_release_database
 *		DROP DATABASE (and CREATE DATABASE from a template, ALTER DATABASE
 *		RENAME or SET TABLESPACE) need the database to themselves: stop its
 *		worker and keep the launcher from starting it again for a while.
 */
static void
queue_worker_release_database(const char *dbname)
{
	Oid			dbid = get_database_oid(dbname, true);
	WorkerSlot *slot;
	pid_t		pid = 0;

	if (!OidIsValid(dbid) || worker_shared == NULL)
		return;
	SpinLockAcquire(&worker_shared->mutex);
	slot = slot_for(dbid, false);
	if (slot)
	{
		slot->paused_until = GetCurrentTimestamp() + RELEASE_PAUSE_SECS * USECS_PER_SEC;
		pid = slot->pid;
	}
	SpinLockRelease(&worker_shared->mutex);
	if (pid != 0)
		kill(pid, SIGTERM);
}

/*
 * queue_process_utility
 *		Let the commands that need a database to themselves have it.
 */
static void
queue_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	const char *dbname = NULL;
	ListCell   *lc;

	if (IsA(parsetree, DropdbStmt))
		dbname = ((DropdbStmt *) parsetree)->dbname;
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		dbname = ((RenameStmt *) parsetree)->subname;
	else if (IsA(parsetree, AlterDatabaseStmt))
		dbname = ((AlterDatabaseStmt *) parsetree)->dbname;
	else if (IsA(parsetree, CreatedbStmt))
	{
		foreach(lc, ((CreatedbStmt *) parsetree)->options)
		{
			DefElem    *def = lfirst_node(DefElem, lc);

			if (strcmp(def->defname, "template") == 0 && def->arg != NULL)
				dbname = defGetString(def);
		}
	}
	if (dbname)
		queue_worker_release_database(dbname);

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * wake_launcher
 *		Ask the launcher to probe every database now.
 */
static void
wake_launcher(void)
{
	Latch	   *latch;

	SpinLockAcquire(&worker_shared->mutex);
	worker_shared->rescan = true;
	latch = worker_shared->launcher_latch;
	SpinLockRelease(&worker_shared->mutex);
	if (latch)
		SetLatch(latch);
}

static bool wake_at_commit = false;

/*
 * queue_worker_wake_launcher
 *		wake_launcher, for COMMIT PREPARED of a transaction that asked for
 *		it (prepared.c).
 */
void
queue_worker_wake_launcher(void)
{
	if (worker_shared != NULL)
		wake_launcher();
}

static void
worker_wake_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_at_commit)
		wake_launcher();
	/* wakes it when COMMIT PREPARED commits it (prepared.c) */
	if (event == XACT_EVENT_PREPARE && wake_at_commit)
		queue_prepared_keep(InvalidOid, 0, PG_INT64_MAX, false, DT_NOEND, false);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_at_commit = false;
}

/*
 * queue._worker_wake()
 *		Ask the launcher to probe every database once this transaction
 *		commits (CREATE EXTENSION calls it, so that the database gets its
 *		worker at once; before the commit the worker would not see the
 *		extension).
 */
Datum
queue_worker_wake_sql(PG_FUNCTION_ARGS)
{
	static bool registered = false;

	if (worker_shared == NULL)
		PG_RETURN_BOOL(false);
	if (!registered)
	{
		RegisterXactCallback(worker_wake_xact_callback, NULL);
		registered = true;
	}
	wake_at_commit = true;
	PG_RETURN_BOOL(true);
}

/*
 * queue._preloaded()
 *		Whether the library was loaded by shared_preload_libraries.
 */
Datum
queue_preloaded_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(queue_preloaded);
}

/* ---------------------------------------------------------------------
 * The worker of one database
 * ---------------------------------------------------------------------
 */

/*
 * worker_step
 *		One step in one short transaction.  Returns false when the
 *		database has no queue extension (any more).
 */
static bool
worker_step(WorkerSlot *slot)
{
	bool		has_extension;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "queue worker step");

	rc = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'queue'",
					 true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "lookup of extension queue failed: %s",
			 SPI_result_code_string(rc));
	has_extension = (SPI_processed > 0);

	if (has_extension && queue_worker_enabled)
	{
		Oid			argtypes[1] = {INT4OID};
		Datum		args[1];
		bool		isnull;

		/*
		 * DDL on a queue (drop, alter, DROP EXTENSION) wins over the worker:
		 * a step that would wait for a table lock gives up on that queue
		 * until the next step instead of holding the DDL up (or
		 * deadlocking with it).
		 */
		if (SPI_execute("SET LOCAL lock_timeout = '" STEP_LOCK_TIMEOUT "'", false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "could not set lock_timeout");

		args[0] = Int32GetDatum(queue_worker_batch);
		/* visit only the queues that need it (schedule.c) */
		queue_in_worker_step = true;
		rc = SPI_execute_with_args("SELECT dead_lettered, purged, forgotten, failures_counted "
								   "FROM queue._worker_step($1)",
								   1, argtypes, args, NULL, false, 1);
		queue_in_worker_step = false;
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "queue._worker_step failed: %s", SPI_result_code_string(rc));

		SpinLockAcquire(&worker_shared->mutex);
		slot->dead_lettered += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull));
		slot->purged += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 2, &isnull));
		slot->forgotten += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 3, &isnull));
		slot->failures_counted += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 4, &isnull));
		SpinLockRelease(&worker_shared->mutex);
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(true);
	pgstat_report_activity(STATE_IDLE, NULL);

	SpinLockAcquire(&worker_shared->mutex);
	slot->has_extension = has_extension;
	slot->last_probe = GetCurrentTimestamp();
	if (has_extension && queue_worker_enabled)
	{
		slot->last_run = slot->last_probe;
		slot->runs++;
		slot->last_error[0] = '\0';
	}
	SpinLockRelease(&worker_shared->mutex);
	return has_extension;
}

/*
 * worker_forget_pid
 *		However the worker exits, its slot no longer names it.
 */
static void
worker_forget_pid(int code, Datum arg)
{
	WorkerSlot *slot = (WorkerSlot *) DatumGetPointer(arg);

	SpinLockAcquire(&worker_shared->mutex);
	if (slot->pid == MyProcPid)
		slot->pid = 0;
	SpinLockRelease(&worker_shared->mutex);
}

void
queue_worker_main(Datum main_arg)
{
	Oid			dbid = DatumGetObjectId(main_arg);
	WorkerSlot *slot;
	MemoryContext step_context;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);

	/* one worker per database, even if two launchers raced */
	SpinLockAcquire(&worker_shared->mutex);
	slot = slot_for(dbid, true);
	if (slot && slot->pid != 0 && slot->pid != MyProcPid && kill(slot->pid, 0) == 0)
		slot = NULL;
	else if (slot)
		slot->pid = MyProcPid;
	SpinLockRelease(&worker_shared->mutex);
	if (slot == NULL)
		proc_exit(0);
	before_shmem_exit(worker_forget_pid, PointerGetDatum(slot));

	step_context = AllocSetContextCreate(TopMemoryContext, "queue worker step",
										 ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		bool		keep_going = true;

		if (!still_running())
			break;

		/*
		 * An error in a step (a queue dropped or locked under us, say) is
		 * reported and the step abandoned; the next one starts afresh.
		 */
		MemoryContextSwitchTo(step_context);
		PG_TRY();
		{
			keep_going = worker_step(slot);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(step_context);
			edata = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			/* reported once, here, with the error's SQLSTATE, detail and context */
			ereport(LOG,
					(errcode(edata->sqlerrcode),
					 errmsg("queue worker: step failed: %s", edata->message),
					 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
					 edata->context ? errcontext("%s", edata->context) : 0));
			SpinLockAcquire(&worker_shared->mutex);
			snprintf(slot->last_error, sizeof(slot->last_error), "SQLSTATE %s: %s",
					 unpack_sql_state(edata->sqlerrcode), edata->message);
			SpinLockRelease(&worker_shared->mutex);
			FreeErrorData(edata);
			pgstat_report_activity(STATE_IDLE, NULL);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(step_context);

		if (!keep_going)
			break;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 queue_worker_interval, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	SpinLockAcquire(&worker_shared->mutex);
	slot->pid = 0;
	SpinLockRelease(&worker_shared->mutex);
	proc_exit(0);
}

/*
 * queue._worker_status()
 *		RETURNS TABLE (dbid oid, pid integer, last_run timestamptz,
 *		runs bigint, dead_lettered bigint, purged bigint, forgotten bigint,
 *		failures_counted bigint, failures_dropped bigint, last_error text)
 *
 * One row per database that has (or had at its last probe) the extension.
 */
Datum
queue_worker_status_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (worker_shared == NULL)
		return (Datum) 0;

	for (i = 0; i < MAX_WORKER_DATABASES; i++)
	{
		WorkerSlot	copy;
		Datum		values[10];
		bool		nulls[10];

		SpinLockAcquire(&worker_shared->mutex);
		copy = worker_shared->slots[i];
		SpinLockRelease(&worker_shared->mutex);
		if (copy.dbid == InvalidOid || !copy.has_extension)
			continue;

		memset(nulls, 0, sizeof(nulls));
		values[0] = ObjectIdGetDatum(copy.dbid);
		values[1] = Int32GetDatum(copy.pid);
		nulls[1] = (copy.pid == 0);
		values[2] = TimestampTzGetDatum(copy.last_run);
		nulls[2] = (copy.last_run == 0);
		values[3] = Int64GetDatum(copy.runs);
		values[4] = Int64GetDatum(copy.dead_lettered);
		values[5] = Int64GetDatum(copy.purged);
		values[6] = Int64GetDatum(copy.forgotten);
		values[7] = Int64GetDatum(copy.failures_counted);
		values[8] = Int64GetDatum(queue_failures_dropped());
		values[9] = CStringGetTextDatum(copy.last_error);
		nulls[9] = (copy.last_error[0] == '\0');
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
