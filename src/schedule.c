/*-------------------------------------------------------------------------
 *
 * schedule.c
 *		Which queues a worker step visits.
 *
 * A step must not cost more with more idle queues.  So it visits only the
 * queues that shared memory says need something:
 *
 *	- a dead-letter sweep is due (queue_sweep_take, counters.c), or the
 *	  step's own failure counting made a message reach max_deliveries;
 *	- the queue's archive, idempotency keys or producer sequence numbers
 *	  may hold rows (a flag set by what writes them and cleared when the
 *	  worker finds the three tables empty);
 *	- readers sleep on it, and a delay or visibility timeout may have run
 *	  out meanwhile;
 *	- its message table is mostly free space and should be compacted
 *	  (checked every 10 s; see compaction_due);
 *	- its counts for queue.stats should be measured again (measure.c);
 *	- a message may have expired (counters.c, queue_expiry_due: a send
 *	  noted when; in a full pass, every queue with a message_ttl too).
 *
 * Those are the queues with a shared slot.  Once a minute (and whenever
 * the step is not run by the background worker: a test, or an operator)
 * the step is a full pass over queue.registry instead, which finds queues
 * without a slot (after a restart) and flags what changed behind the API;
 * it checks the size of the housekeeping tables without keeping their
 * locks, so that a pass over thousands of queues does not fill the lock
 * table.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "queue.h"

/* the background worker makes a full pass this often (microseconds) */
#define FULL_PASS_USECS	(60 * USECS_PER_SEC)

/* what a queue is due for: the bits of queue._due_queues().due */
#define DUE_SWEEP		1
#define DUE_HOUSEKEEPING 2
#define DUE_SLEEPERS	4
#define DUE_COMPACTION	8
#define DUE_MEASURE		16
#define DUE_EXPIRY		32

/* a step looks for tables to compact this often (microseconds) */
#define COMPACTION_CHECK_USECS	(10 * USECS_PER_SEC)
/* ... and compacts one when at least this share of its heap is free */
#define COMPACTION_FREE_SHARE	0.75
/* pages looked at to measure it */
#define COMPACTION_SAMPLE		64

/* GUCs (queue.c) */
int			queue_compact_min_size = 8192;	/* kB; 0: never compact */
int			queue_compact_max_live = 65536; /* kB */

/* set by the background worker around its step (worker.c) */
bool		queue_in_worker_step = false;
static TimestampTz last_full_pass = 0;
static TimestampTz last_compaction_check = 0;

PG_FUNCTION_INFO_V1(queue_full_pass_due_sql);
PG_FUNCTION_INFO_V1(queue_due_queues_sql);
PG_FUNCTION_INFO_V1(queue_space_sql);

/*
 * queue._full_pass_due() RETURNS boolean
 *		Whether this step visits every queue: always outside the background
 *		worker, and once a minute in it.
 */
Datum
queue_full_pass_due_sql(PG_FUNCTION_ARGS)
{
	TimestampTz now = GetCurrentTimestamp();

	if (!queue_in_worker_step)
		PG_RETURN_BOOL(true);
	if (now - last_full_pass < FULL_PASS_USECS)
		PG_RETURN_BOOL(false);
	last_full_pass = now;
	PG_RETURN_BOOL(true);
}

/*
 * table_has_pages
 *		Whether queue.<prefix><name> has any page; true when it cannot be
 *		told without waiting for a lock (the step finds out itself, under
 *		its lock_timeout).  The lock is let go at once.
 */
static bool
table_has_pages(Oid nsp, const char *prefix, const char *name)
{
	char		relname[NAMEDATALEN];
	Oid			relid;
	Relation	rel;
	bool		has_pages;

	queue_relname(relname, prefix, name);
	relid = get_relname_relid(relname, nsp);
	if (!OidIsValid(relid))
		return false;
	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return true;
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
	{
		UnlockRelationOid(relid, AccessShareLock);
		return false;
	}
	has_pages = RelationGetNumberOfBlocks(rel) > 0;
	relation_close(rel, AccessShareLock);
	return has_pages;
}

/*
 * heap_free_share
 *		The share of free space in rel's heap of 'blocks' pages, measured
 *		on COMPACTION_SAMPLE pages spread evenly over it, from the pages
 *		themselves (the free space map is not crash-safe, and vacuum does
 *		not visit the pages it knows empty).  rel is locked.
 */
static double
heap_free_share(Relation rel, BlockNumber blocks)
{
	BufferAccessStrategy strategy;
	double		free_share = 0;
	int			nsample = Min(blocks, COMPACTION_SAMPLE);
	int			i;

	if (nsample == 0)
		return 0;
	strategy = GetAccessStrategy(BAS_BULKREAD);
	for (i = 0; i < nsample; i++)
	{
		BlockNumber blk = (BlockNumber) (((uint64) blocks * i) / nsample);
		Buffer		buf = ReadBufferExtended(rel, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		free_share += PageIsNew(page) ? 1.0 :
			(double) PageGetHeapFreeSpace(page) / BLCKSZ;
		UnlockReleaseBuffer(buf);
	}
	FreeAccessStrategy(strategy);
	return free_share / nsample;
}

/*
 * compaction_due
 *		Whether relid's message table should be rewritten (CLUSTER on its
 *		primary key): it is at least queue.compact_min_size, at least
 *		three quarters of its heap is free (a held snapshot or a backlog
 *		made it grow, and it has drained since: the space is free only once
 *		the horizon let vacuum or pruning remove the dead rows), and what
 *		is left to copy is at most queue.compact_max_live.  The rewrite
 *		then gives the space back to the file system, heap and indexes, in
 *		time proportional to the live rows.
 *
 *		The free share is measured by heap_free_share.
 */
static bool
compaction_due(Oid relid)
{
	Relation	rel;
	BlockNumber blocks;
	double		heap_bytes;
	double		free_share;

	if (queue_compact_min_size <= 0)
		return false;
	if (!ConditionalLockRelationOid(relid, AccessShareLock))
		return false;
	rel = try_relation_open(relid, NoLock);
	if (rel == NULL)
	{
		UnlockRelationOid(relid, AccessShareLock);
		return false;
	}
	blocks = RelationGetNumberOfBlocks(rel);
	heap_bytes = (double) blocks * BLCKSZ;
	if (heap_bytes < (double) queue_compact_min_size * 1024)
	{
		relation_close(rel, AccessShareLock);
		return false;
	}

	free_share = heap_free_share(rel, blocks);
	relation_close(rel, AccessShareLock);

	return free_share >= COMPACTION_FREE_SHARE &&
		heap_bytes * (1 - free_share) <= (double) queue_compact_max_live * 1024;
}

/*
 * queue._due_queues(counted oid[], every boolean)
 *		RETURNS TABLE (relid oid, queue_name text, due integer)
 *
 * The queues this step visits, and for what (DUE_* bits); a sweep found
 * due is taken (and given back if the step rolls back).  counted: message
 * tables whose sweep is due anyway.  every: a full pass over
 * queue.registry instead of the queues with a slot.
 */
Datum
queue_due_queues_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *counted_arr = PG_GETARG_ARRAYTYPE_P(0);
	bool		every = PG_GETARG_BOOL(1);
	Oid		   *counted;
	int			ncounted;
	Oid		   *relids = NULL;
	char	  **names = NULL;
	bool	   *ttls = NULL;
	int			n = 0;
	Oid			nsp;
	bool		compaction_check;
	TimestampTz now = GetCurrentTimestamp();
	int			i;
	int			j;

	InitMaterializedSRF(fcinfo, 0);
	/* in the background worker every 10 s; always when called by hand */
	compaction_check = !queue_in_worker_step ||
		now - last_compaction_check >= COMPACTION_CHECK_USECS;
	if (compaction_check)
		last_compaction_check = now;
	nsp = get_namespace_oid("queue", false);
	{
		Datum	   *elems;
		bool	   *nulls;

		deconstruct_array(counted_arr, OIDOID, sizeof(Oid), true, TYPALIGN_INT,
						  &elems, &nulls, &ncounted);
		counted = palloc(sizeof(Oid) * (ncounted + 1));
		for (i = 0; i < ncounted; i++)
			counted[i] = nulls[i] ? InvalidOid : DatumGetObjectId(elems[i]);
	}

	if (every)
	{
		uint64		nrows;

		queue_spi_connect();
		/* no column message_ttl before 0.5.0 */
		if (SPI_execute("SELECT queue_name, "
						"  (pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'message_ttl') IS NOT NULL "
						"FROM queue.registry r", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read queue.registry");
		nrows = SPI_processed;
		/* outside SPI's memory, which queue_spi_finish releases */
		relids = MemoryContextAlloc(rsinfo->econtext->ecxt_per_query_memory,
									sizeof(Oid) * (nrows + 1));
		names = MemoryContextAlloc(rsinfo->econtext->ecxt_per_query_memory,
								   sizeof(char *) * (nrows + 1));
		ttls = MemoryContextAlloc(rsinfo->econtext->ecxt_per_query_memory,
								  sizeof(bool) * (nrows + 1));
		for (i = 0; i < (int) nrows; i++)
		{
			char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			bool		isnull;

			relids[n] = queue_table_oid(name);
			if (!OidIsValid(relids[n]))
				continue;		/* being created or dropped */
			ttls[n] = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
												 SPI_tuptable->tupdesc, 2, &isnull));
			names[n++] = MemoryContextStrdup(rsinfo->econtext->ecxt_per_query_memory, name);
		}
		queue_spi_finish();
	}
	else
	{
		/* names are looked up only for the queues that are due */
		n = queue_slot_relids(&relids);
		names = palloc0(sizeof(char *) * (n + 1));
	}

	for (i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int			due = 0;

		CHECK_FOR_INTERRUPTS();
		for (j = 0; j < ncounted; j++)
			if (counted[j] == relids[i])
				due |= DUE_SWEEP;
		if (queue_sweep_take(relids[i]))
			due |= DUE_SWEEP;
		if (every)
		{
			/* what the flags say, checked against the tables */
			bool		busy = table_has_pages(nsp, "a_", names[i]) ||
				table_has_pages(nsp, "k_", names[i]) ||
				table_has_pages(nsp, "p_", names[i]);

			queue_housekeeping(relids[i], busy ? 1 : 0);
			if (busy)
				due |= DUE_HOUSEKEEPING;
		}
		else if (queue_housekeeping(relids[i], -1))
			due |= DUE_HOUSEKEEPING;
		if (queue_has_sleepers(relids[i]))
			due |= DUE_SLEEPERS;
		if (compaction_check && compaction_due(relids[i]))
			due |= DUE_COMPACTION;
		if (queue_measure_due(relids[i], now))
			due |= DUE_MEASURE;
		if ((every && ttls[i]) || queue_expiry_due(relids[i], now))
			due |= DUE_EXPIRY;
		if (due == 0)
			continue;
		if (names[i] == NULL)
		{
			char	   *relname = get_rel_name(relids[i]);

			/* a slot of a dropped queue, or of a table that is not a queue's */
			if (relname == NULL || strncmp(relname, "q_", 2) != 0 ||
				get_rel_namespace(relids[i]) != nsp)
				continue;
			names[i] = relname + 2;
		}
		values[0] = ObjectIdGetDatum(relids[i]);
		values[1] = CStringGetTextDatum(names[i]);
		values[2] = Int32GetDatum(due);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * queue._space(relid oid, OUT heap_bytes bigint, OUT free_share float8)
 *		The size of a queue's message table and the share of it that is
 *		free space (heap_free_share), for queue.health's bloat finding.
 *		Needs consume on the queue; NULLs when the table's lock is not
 *		free at once.
 */
Datum
queue_space_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	desc;
	Datum		values[2] = {0, 0};
	bool		nulls[2] = {true, true};
	Relation	rel;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	queue_require_relid(relid, QPRIV_CONSUME);
	desc = BlessTupleDesc(desc);
	if (ConditionalLockRelationOid(relid, AccessShareLock))
	{
		rel = try_relation_open(relid, NoLock);
		if (rel != NULL)
		{
			BlockNumber blocks = RelationGetNumberOfBlocks(rel);

			values[0] = Int64GetDatum((int64) blocks * BLCKSZ);
			values[1] = Float8GetDatum(heap_free_share(rel, blocks));
			nulls[0] = nulls[1] = false;
			relation_close(rel, NoLock);
		}
		else
			UnlockRelationOid(relid, AccessShareLock);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
