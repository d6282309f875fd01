/*-------------------------------------------------------------------------
 *
 * read.c
 *		queue.read and queue.pop: consuming messages.
 *
 * read takes up to quantity visible messages, never waiting for a row
 * another reader holds, makes them invisible until visibility_timeout from
 * now and counts the delivery; pop deletes them instead (at-most-once).
 * Both return rows of type queue.message, highest priority first and
 * oldest first within a priority.
 *
 * The direct path walks the priority index (priorities above 0), then the
 * primary key (priority 0), then the priority index again (below 0), and
 * updates or deletes each visible row with wait = false: a row that another
 * transaction is changing or has locked is skipped, as SKIP LOCKED would,
 * and no separate row lock is taken before the update.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_read);
PG_FUNCTION_INFO_V1(queue_pop);

/* One pass over an index in read_direct */
typedef struct ReadPass
{
	int			index;			/* DIRECT_PRIORITY or DIRECT_PKEY */
	StrategyNumber strategy;	/* compare priority with 0; 0: no key */
	bool		only_priority_zero; /* skip rows of other priorities */
} ReadPass;

static const ReadPass read_passes[3] = {
	{DIRECT_PRIORITY, BTGreaterStrategyNumber, false},
	{DIRECT_PKEY, 0, true},
	{DIRECT_PRIORITY, BTLessStrategyNumber, false},
};

/*
 * lock_if_free
 *		The row is locked or being changed: take the lock if nobody else
 *		holds it (we may hold it ourselves, from FOR UPDATE or a nack
 *		earlier in this transaction), as SKIP LOCKED does.  True when we
 *		hold it now, so that the change can go ahead without waiting.
 */
static bool
lock_if_free(DirectTable *dt, TupleTableSlot *found, CommandId cid,
			 TupleTableSlot *locked)
{
	TM_FailureData tmfd;

	return table_tuple_lock(dt->rel, &found->tts_tid, dt->snapshot, locked, cid,
							LockTupleExclusive, LockWaitSkip, 0, &tmfd) == TM_Ok;
}

/* What one read needs across its passes */
typedef struct ReadState
{
	QueueEntry *entry;
	DirectTable *dt;
	TimestampTz now;
	Datum		new_visible_at;
	bool		pop;
	ReturnSetInfo *rsinfo;
	TimestampTz next_visible;	/* earliest visible_at of rows not taken */
	TimestampTz expired_before; /* message_ttl: enqueued before is expired */
	bool		expiry_headers; /* messages may carry their own expiry */
	Relation	group_index;	/* group_limit: opened on first use */
	TupleTableSlot *group_slot;
} ReadState;

/*
 * group_blocked
 *		Whether the row must wait for earlier messages of its group: on an
 *		ordered queue (group_limit 1), while one is still in the queue
 *		(handed out, waiting for a retry, or not yet read); with
 *		max_in_flight_per_group n, while n are.  Acked and dead-lettered
 *		messages are gone, and one of ours taken earlier in this read is
 *		still seen (its old version).  So the messages of a group that can
 *		be handed out are its n oldest still in the queue, and at most n
 *		are in flight: senders of one group take turns until commit
 *		(send.c, lock_group), so no earlier message of the group is
 *		uncommitted when a later one is visible.
 */
static bool
group_blocked(ReadState *rs, TupleTableSlot *row, int64 id)
{
	IndexScanDesc scan;
	ScanKeyData key;
	int32		earlier = 0;

	if (rs->entry->group_limit <= 0 || row->tts_isnull[MSG_GROUP_KEY])
		return false;
	if (rs->group_index == NULL)
	{
		rs->group_index = index_open(rs->entry->index_oids[DIRECT_GROUP],
									 AccessShareLock);
		rs->group_slot = table_slot_create(rs->dt->rel, NULL);
	}
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   rs->group_index->rd_indcollation[0], F_TEXTEQ,
						   row->tts_values[MSG_GROUP_KEY]);
	scan = index_beginscan(rs->dt->rel, rs->group_index, rs->dt->snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (earlier < rs->entry->group_limit &&
		   index_getnext_slot(scan, ForwardScanDirection, rs->group_slot))
	{
		bool		isnull;

		if (DatumGetInt64(slot_getattr(rs->group_slot, MSG_ID + 1, &isnull)) >= id)
			break;
		earlier++;
	}
	index_endscan(scan);
	return earlier >= rs->entry->group_limit;
}

/*
 * take_row
 *		Hand out (or pop) a visible row if the delivery rules allow it.
 *		Returns true when it was taken; otherwise *can_pass tells whether
 *		the row may stay behind the read position (it cannot be taken until
 *		an event that moves the position back), and *visible_at when it
 *		becomes visible again (DT_NOBEGIN: no time).
 */
static bool
take_row(ReadState *rs, TupleTableSlot *found, TupleTableSlot *locked,
		 CommandId cid, bool *can_pass, TimestampTz *visible_at)
{
	QueueEntry *entry = rs->entry;
	DirectTable *dt = rs->dt;
	TM_FailureData tmfd;
	TM_Result	result;
	Datum		values[MSG_NATTS];
	bool		nulls[MSG_NATTS];
	int64		msg_id;
	int32		failures;
	int32		count;
	TimestampTz at;

	/*
	 * A row version this transaction wrote (a read or nack earlier in it)
	 * is back as it was if the transaction rolls back.
	 */
	*can_pass = !TransactionIdIsCurrentTransactionId(
		HeapTupleHeaderGetRawXmin(((BufferHeapTupleTableSlot *) found)->base.tuple->t_data));
	*visible_at = DT_NOBEGIN;
	slot_getallattrs(found);
	msg_id = DatumGetInt64(found->tts_values[MSG_ID]);
	at = DatumGetTimestampTz(found->tts_values[MSG_VISIBLE_AT]);
	if (at > rs->now)
	{
		/* not yet: remember when the first one will be visible */
		rs->next_visible = Min(rs->next_visible, at);
		*visible_at = at;
		return false;
	}

	/* expired (message_ttl, or its own ttl): the worker dead-letters or drops it */
	if (DatumGetTimestampTz(found->tts_values[MSG_ENQUEUED_AT]) <= rs->expired_before)
		return false;
	if (rs->expiry_headers && !found->tts_isnull[MSG_HEADERS] &&
		queue_header_expiry(found->tts_values[MSG_HEADERS], &at) && at <= rs->now)
		return false;

	/*
	 * Delivered max_deliveries times already, counting deliveries whose
	 * transactions rolled back since: the worker dead-letters it.
	 */
	count = DatumGetInt32(found->tts_values[MSG_DELIVERY_COUNT]);
	failures = rs->pop ? 0 : queue_pending_failures(entry->relid, msg_id, count, false);
	if (entry->max_deliveries > 0 && count + failures >= entry->max_deliveries)
		return false;
	/* an earlier message of its group is in the queue: its ack rewinds */
	if (group_blocked(rs, found, msg_id))
		return false;

	memcpy(values, found->tts_values, sizeof(values));
	memcpy(nulls, found->tts_isnull, sizeof(nulls));
	values[MSG_DELIVERY_COUNT] = Int32GetDatum(count + 1 + failures);

	if (rs->pop)
	{
		result = heap_delete(dt->rel, &found->tts_tid, cid, InvalidSnapshot,
							 false, &tmfd, false);
		if (result == TM_BeingModified && lock_if_free(dt, found, cid, locked))
			result = heap_delete(dt->rel, &found->tts_tid, cid, InvalidSnapshot,
								 true, &tmfd, false);
	}
	else
	{
		HeapTuple	tuple;
		LockTupleMode lockmode;

		values[MSG_VISIBLE_AT] = rs->new_visible_at;
		values[MSG_LEASED] = BoolGetDatum(true);
		tuple = heap_form_tuple(RelationGetDescr(dt->rel), values, nulls);
		result = heap_update(dt->rel, &found->tts_tid, tuple, cid,
							 InvalidSnapshot, false, &tmfd, &lockmode);
		if (result == TM_BeingModified && lock_if_free(dt, found, cid, locked))
			result = heap_update(dt->rel, &found->tts_tid, tuple, cid,
								 InvalidSnapshot, true, &tmfd, &lockmode);
		if (result == TM_Ok && !HeapTupleIsHeapOnly(tuple))
			direct_index_insert(dt, values, nulls, &tuple->t_self, true);
		heap_freetuple(tuple);
	}

	/*
	 * Changed, locked or being changed by someone else: skip it, but it
	 * may be ready again if that transaction rolls back.  Taken by us: it
	 * may be ready again if we roll back.
	 */
	*can_pass = false;
	if (result != TM_Ok)
		return false;

	/* queue.message is the table's row without "leased" */
	/* the pending failures are in the row now: take them over */
	if (failures > 0)
		failures = queue_pending_failures(entry->relid, msg_id, count, true);
	tuplestore_putvalues(rs->rsinfo->setResult, rs->rsinfo->setDesc, values, nulls);
	queue_note_delivery(entry->relid, msg_id, failures, !rs->pop,
						DatumGetInt32(values[MSG_DELIVERY_COUNT]));
	/* the last delivery: the worker dead-letters it if it times out */
	if (!rs->pop && entry->max_deliveries > 0 &&
		DatumGetInt32(values[MSG_DELIVERY_COUNT]) >= entry->max_deliveries)
		queue_note_sweep(entry->relid, DatumGetTimestampTz(rs->new_visible_at));
	return true;
}

/*
 * in_progress
 *		An index entry whose row the read's snapshot does not see: whether
 *		a version of it is being inserted or changed, or was committed
 *		after the snapshot (SnapshotDirty sees those).  Otherwise the row
 *		is dead (or its insert rolled back) and can be passed.
 */
static bool
in_progress(IndexFetchTableData *fetch, ItemPointer tid, TupleTableSlot *slot)
{
	SnapshotData dirty;
	bool		call_again = false;
	bool		all_dead = false;

	InitDirtySnapshot(dirty);
	return table_index_fetch_tuple(fetch, tid, &dirty, slot, &call_again, &all_dead);
}

/*
 * entry_id
 *		The id in the primary key entry the scan is on.
 */
static int64
entry_id(IndexScanDesc scan)
{
	bool		isnull;

	return DatumGetInt64(index_getattr(scan->xs_itup, 1, scan->xs_itupdesc, &isnull));
}

/*
 * read_pass
 *		Hand out (or pop) up to 'wanted' visible rows found through one
 *		index; returns how many.  The primary key pass starts at the
 *		queue's read position and moves it (position.c).
 */
static int
read_pass(ReadState *rs, const ReadPass *pass, int wanted, ReadPosition *rp)
{
	DirectTable *dt = rs->dt;
	Relation	irel;
	IndexScanDesc scan;
	ScanKeyData key;
	int			nkeys = 0;
	TupleTableSlot *found;
	TupleTableSlot *locked;
	IndexFetchTableData *dirty_fetch = NULL;
	CommandId	cid = GetCurrentCommandId(true);
	bool		exhausted = true;
	int			n = 0;

	irel = index_open(rs->entry->index_oids[pass->index], RowExclusiveLock);
	found = table_slot_create(dt->rel, NULL);
	locked = table_slot_create(dt->rel, NULL);
	if (pass->strategy)
	{
		ScanKeyInit(&key, 1, pass->strategy,
					pass->strategy == BTGreaterStrategyNumber ? F_INT4GT : F_INT4LT,
					Int32GetDatum(0));
		nkeys = 1;
	}
	else if (rp != NULL && rp->start > 0)
	{
		ScanKeyInit(&key, 1, BTGreaterEqualStrategyNumber, F_INT8GE,
					Int64GetDatum(rp->start));
		nkeys = 1;
	}
	scan = index_beginscan(dt->rel, irel, dt->snapshot, nkeys, 0);
	if (rp != NULL && rp->may_move)
	{
		/* the ids of entries whose rows we do not see come from the index */
		scan->xs_want_itup = true;
		dirty_fetch = table_index_fetch_begin(dt->rel);
	}
	index_rescan(scan, &key, nkeys, NULL, 0);

	for (;;)
	{
		ItemPointer tid;
		bool		can_pass;
		TimestampTz visible_at;
		bool		isnull;

		if (n >= wanted)
		{
			exhausted = false;
			break;
		}
		CHECK_FOR_INTERRUPTS();
		tid = index_getnext_tid(scan, ForwardScanDirection);
		if (tid == NULL)
			break;
		if (!index_fetch_heap(scan, found))
		{
			/* a row this snapshot does not see: dead, or on its way? */
			if (dirty_fetch != NULL && rp->moving)
				queue_position_pass(rp, entry_id(scan),
									!in_progress(dirty_fetch, tid, locked),
									false, DT_NOBEGIN);
			continue;
		}
		if (pass->only_priority_zero &&
			DatumGetInt32(slot_getattr(found, MSG_PRIORITY + 1, &isnull)) != 0)
		{
			/* the priority index serves it */
			if (rp != NULL)
				queue_position_pass(rp,
									DatumGetInt64(slot_getattr(found, MSG_ID + 1, &isnull)),
									true, true, DT_NOBEGIN);
			continue;
		}
		if (take_row(rs, found, locked, cid, &can_pass, &visible_at))
			n++;
		if (rp != NULL)
			queue_position_pass(rp, DatumGetInt64(found->tts_values[MSG_ID]),
								can_pass, true, visible_at);
	}

	if (dirty_fetch != NULL)
		table_index_fetch_end(dirty_fetch);
	if (rp != NULL)
		queue_position_end(rp, exhausted);
	index_endscan(scan);
	/* a pass that took nothing lets go of its index lock (see direct_close_ext) */
	index_close(irel, n == 0 ? RowExclusiveLock : NoLock);
	ExecDropSingleTupleTableSlot(found);
	ExecDropSingleTupleTableSlot(locked);
	return n;
}

/*
 * read_direct
 *		queue.read and queue.pop through direct table access; false when
 *		the SQL path must be used.  When it finds nothing, it has seen
 *		every row from the read position on, and *next_visible is when the
 *		first row becomes visible (a delay or visibility timeout runs out;
 *		the rows behind the position count through its rescan time): a
 *		long poll sleeps no longer than that.
 */
static bool
read_direct(QueueEntry *entry, int32 quantity, TimestampTz now,
			Interval *vt, bool pop, ReturnSetInfo *rsinfo, int *nread,
			TimestampTz *next_visible)
{
	DirectTable dt;
	ReadState	rs;
	ReadPosition rp;
	Relation	pkey;
	int			n = 0;
	int			i;

	/* with a retention, pop archives: SQL */
	if (pop && entry->has_retention)
		return false;
	if (!direct_open(entry, !pop, &dt))
		return false;

	memset(&rs, 0, sizeof(rs));
	rs.entry = entry;
	rs.dt = &dt;
	rs.now = now;
	rs.expired_before = entry->has_ttl ?
		DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												TimestampTzGetDatum(now),
												IntervalPGetDatum(&entry->message_ttl))) :
		DT_NOBEGIN;
	rs.expiry_headers = queue_expiry_headers(entry->relid) != 0;
	rs.pop = pop;
	rs.rsinfo = rsinfo;
	rs.next_visible = DT_NOEND;
	if (!pop)
		rs.new_visible_at = DirectFunctionCall2(timestamptz_pl_interval,
												TimestampTzGetDatum(now),
												IntervalPGetDatum(vt));

	/* the position first, then the snapshot (see position.c) */
	pkey = index_open(entry->index_oids[DIRECT_PKEY], RowExclusiveLock);
	queue_position_begin(&rp, entry->relid, dt.rel, pkey, now);
	index_close(pkey, NoLock);
	direct_snapshot(&dt);

	for (i = 0; i < lengthof(read_passes) && n < quantity; i++)
		n += read_pass(&rs, &read_passes[i], quantity - n,
					   read_passes[i].index == DIRECT_PKEY ? &rp : NULL);

	if (rs.group_index != NULL)
	{
		index_close(rs.group_index, AccessShareLock);
		ExecDropSingleTupleTableSlot(rs.group_slot);
	}
	direct_close_ext(&dt, n == 0);
	*nread = n;
	*next_visible = Min(rs.next_visible, rp.rescan_at);
	return true;
}

/*
 * return_spi_rows
 *		Copy the rows of the last SPI statement, whose columns are those of
 *		queue.message, into the function's result set.
 */
static void
return_spi_rows(ReturnSetInfo *rsinfo, int nrows)
{
	int			i;

	for (i = 0; i < nrows; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
}

/*
 * read_once
 *		One look at the queue: hand out what is visible now, directly or
 *		with the prepared statement.  Returns how many.
 */
static int
read_once(QueueEntry *entry, int32 quantity, Interval *vt, ReturnSetInfo *rsinfo,
		  TimestampTz *next_visible)
{
	TimestampTz now = queue_now();
	Datum		values[3];
	int			n;
	int			i;

	*next_visible = DT_NOEND;
	/* paused (queue.pause): nothing until queue.resume wakes the sleepers */
	if (entry->paused)
		return 0;
	if (vt == NULL)
		vt = &entry->visibility_timeout;
	if (read_direct(entry, quantity, now, vt, false, rsinfo, &n, next_visible))
	{
		/* what a crash from here on must not forget (journal.c) */
		queue_journal_flush();
		return n;
	}

	values[0] = Int32GetDatum(quantity);
	values[1] = TimestampTzGetDatum(now);
	values[2] = IntervalPGetDatum(vt);
	queue_spi_connect();
	n = queue_spi_exec(queue_plan(entry, QPLAN_READ), values, NULL, false, 0,
					   SPI_OK_SELECT, "read");
	return_spi_rows(rsinfo, n);
	for (i = 0; i < n; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		queue_note_delivery(entry->relid,
							DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull)),
							0, true,
							DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull)));
		/* queue.message: delivery_count is column 4, visible_at 6 */
		if (entry->max_deliveries > 0 &&
			DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull)) >= entry->max_deliveries)
			queue_note_sweep(entry->relid,
								   DatumGetTimestampTz(SPI_getbinval(row, desc, 6, &isnull)));
	}
	queue_spi_finish();
	queue_journal_flush();
	return n;
}

/*
 * queue.read(queue_name, quantity, visibility_timeout, wait)
 *		RETURNS SETOF queue.message
 *
 * With wait, when nothing is visible the reader sleeps (wait.c) until it
 * is woken or wait (capped by queue.max_wait) has passed, and looks again
 * with a new snapshot each time it is woken.
 */
Datum
queue_read(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	int32		quantity;
	Interval   *vt;
	Interval   *wait;
	double		wait_ms = 0;
	QueueEntry *entry;
	TimestampTz next_visible;
	TimestampTz now;
	int			n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	name = queue_name_arg(fcinfo, 0);
	quantity = queue_quantity_arg(fcinfo, 1, 1);
	vt = queue_interval_arg(fcinfo, 2, "visibility_timeout");
	wait = queue_interval_arg(fcinfo, 3, "wait");
	if (wait != NULL)
	{
		wait_ms = (wait->time + ((double) wait->day + (double) wait->month * DAYS_PER_MONTH) *
				   USECS_PER_DAY) / 1000.0;
		wait_ms = Min(wait_ms, (double) queue_max_wait);
	}

	if (wait_ms >= 1)
		queue_wait_check();
	entry = queue_lookup_for(name, QPRIV_CONSUME, false);
	n = read_once(entry, quantity, vt, rsinfo, &next_visible);

	if (n == 0 && wait_ms >= 1)
	{
		TimestampTz deadline = GetCurrentTimestamp() + (int64) (wait_ms * 1000);
		Oid			relid = entry->relid;

		queue_wait_begin(relid);
		PG_TRY();
		{
			for (;;)
			{
				long		remaining_ms;

				/*
				 * The queue may have been altered, paused, resumed or
				 * dropped meanwhile: see the invalidations first.
				 */
				AcceptInvalidationMessages();
				entry = queue_lookup_for(name, QPRIV_CONSUME, false);
				n = read_once(entry, quantity, vt, rsinfo, &next_visible);
				if (n > 0)
					break;
				now = GetCurrentTimestamp();
				remaining_ms = (long) ((deadline - now) / 1000);
				if (remaining_ms <= 0)
					break;
				/* wake up when the next message comes due, if earlier */
				if (next_visible < deadline)
					remaining_ms = Max(1, (long) ((next_visible - now + 999) / 1000));
				queue_wait_sleep(relid, remaining_ms);
			}
		}
		PG_FINALLY();
		{
			queue_wait_end();
		}
		PG_END_TRY();
	}

	return (Datum) 0;
}

/*
 * queue.pop(queue_name, quantity) RETURNS SETOF queue.message
 *		Read and delete (or archive, with a retention) in one step.
 */
Datum
queue_pop(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name;
	int32		quantity;
	Datum		values[2];
	QueueEntry *entry;
	TimestampTz now;
	TimestampTz next_visible;
	int			n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	name = queue_name_arg(fcinfo, 0);
	quantity = queue_quantity_arg(fcinfo, 1, 1);

	entry = queue_lookup_for(name, QPRIV_CONSUME, false);
	/* paused (queue.pause): nothing */
	if (entry->paused)
		return (Datum) 0;
	now = queue_now();
	if (!read_direct(entry, quantity, now, NULL, true, rsinfo, &n, &next_visible))
	{
		values[0] = Int32GetDatum(quantity);
		values[1] = TimestampTzGetDatum(now);
		queue_spi_connect();
		n = queue_spi_exec(queue_plan(entry, QPLAN_POP), values, NULL, false, 0,
						   SPI_OK_SELECT, "pop");
		return_spi_rows(rsinfo, n);
		if (n > 0)
			queue_note_delivery(entry->relid, 0, 0, false, 0);
		queue_spi_finish();
	}
	queue_count_acked(entry->relid, n);
	/* the worker applies the retention to the archive */
	if (n > 0 && entry->has_retention)
		queue_housekeeping(entry->relid, 1);
	/* groups limited (ordered queues): the next messages of their groups may be free now */
	if (n > 0 && entry->group_limit > 0)
		queue_note_rewind(entry->relid, 0, false);

	return (Datum) 0;
}
