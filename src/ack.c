/*-------------------------------------------------------------------------
 *
 * ack.c
 *		queue.ack, queue.nack and queue.extend: settling deliveries.
 *
 * ack deletes the message (or moves it to the archive when the queue has a
 * retention); with a receipt it only succeeds while the delivery it names
 * is still the latest.  nack makes the message visible again after an
 * explicit delay or the queue's exponential backoff, or moves it to the
 * dead letters once it has been delivered max_deliveries times.  extend is
 * the consumer's heartbeat.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/heapam.h"
#include "access/nbtree.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_ack);
PG_FUNCTION_INFO_V1(queue_ack_array);
PG_FUNCTION_INFO_V1(queue_nack);
PG_FUNCTION_INFO_V1(queue_extend);

/*
 * id_arg
 *		A message id argument, which must not be NULL.
 */
static int64
id_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("id must not be NULL")));
	return PG_GETARG_INT64(argno);
}

/*
 * ack_direct
 *		Delete the messages with the given ids (sorted, without duplicates)
 *		through the primary key, without planning a statement.  Only the
 *		delivery named by receipt is deleted when receipt >= 0.  A row
 *		that a concurrent transaction changed while we waited for it is
 *		left for the SQL path, which re-checks its newest version the way
 *		the executor does; those ids are returned in *retry.  Returns the
 *		number deleted, or -1 when the SQL path must do all the work.
 */
static int
ack_direct(QueueEntry *entry, int64 *ids, int nids, int32 receipt,
		   int64 *retry, int *nretry)
{
	DirectTable dt;
	Relation	irel;
	IndexScanDesc scan;
	TupleTableSlot *found;
	CommandId	cid = GetCurrentCommandId(true);
	int			n = 0;
	int			i;

	*nretry = 0;
	/* with a retention, ack archives: leave that to SQL */
	if (entry->has_retention)
		return -1;
	if (!direct_open(entry, false, &dt))
		return -1;
	direct_snapshot(&dt);

	irel = index_open(entry->index_oids[DIRECT_PKEY], RowExclusiveLock);
	found = table_slot_create(dt.rel, NULL);
	scan = index_beginscan(dt.rel, irel, dt.snapshot, 1, 0);

	for (i = 0; i < nids; i++)
	{
		ScanKeyData key;
		TM_FailureData tmfd;
		TM_Result	result;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(ids[i]));
		index_rescan(scan, &key, 1, NULL, 0);
		if (!index_getnext_slot(scan, ForwardScanDirection, found))
			continue;
		if (receipt >= 0 &&
			DatumGetInt32(slot_getattr(found, MSG_DELIVERY_COUNT + 1, &isnull)) != receipt)
			continue;

		result = heap_delete(dt.rel, &found->tts_tid, cid, InvalidSnapshot,
							 true, &tmfd, false);
		if (result == TM_Ok)
			n++;
		else if (result != TM_SelfModified)
			retry[(*nretry)++] = ids[i];
	}

	index_endscan(scan);
	index_close(irel, NoLock);
	ExecDropSingleTupleTableSlot(found);
	direct_close(&dt);
	return n;
}

/*
 * after_ack
 *		What n acked messages (the lowest id first_id) leave to be done:
 *		count them, let the worker apply the retention to the archive, and
 *		let the next messages of their groups go (ordered queues).
 */
static void
after_ack(QueueEntry *entry, int64 n, int64 first_id)
{
	queue_count_acked(entry->relid, n);
	if (n > 0 && entry->has_retention)
		queue_housekeeping(entry->relid, 1);
	if (n > 0 && entry->group_limit > 0)
		queue_note_rewind(entry->relid, first_id, false);
}

/*
 * queue.ack(queue_name, id, receipt) RETURNS boolean
 */
Datum
queue_ack(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	int64		id = id_arg(fcinfo, 1);
	int32		receipt = PG_ARGISNULL(2) ? -1 : PG_GETARG_INT32(2);
	Datum		values[2];
	QueueEntry *entry;
	int64		retry;
	int			nretry;
	int			n;

	entry = queue_lookup_for(name, QPRIV_CONSUME, true);
	n = ack_direct(entry, &id, 1, receipt, &retry, &nretry);
	if (n < 0 || nretry > 0)
	{
		values[0] = Int64GetDatum(id);
		values[1] = Int32GetDatum(receipt);
		queue_spi_connect();
		n = queue_spi_exec(queue_plan(entry, receipt >= 0 ? QPLAN_ACK_RECEIPT : QPLAN_ACK),
						   values, NULL, false, 0,
						   entry->has_retention ? SPI_OK_INSERT : SPI_OK_DELETE,
						   "ack");
		queue_spi_finish();
	}
	after_ack(entry, n, id);
	PG_RETURN_BOOL(n > 0);
}

/*
 * compare_int64
 *		qsort comparator for message ids.
 */
static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * queue.ack(queue_name, ids bigint[]) RETURNS bigint
 *		The ids are acked in ascending order, so that two consumers acking
 *		overlapping sets cannot deadlock.
 */
Datum
queue_ack_array(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elem_nulls;
	int64	   *ids;
	int64	   *retry;
	int			nitems;
	int			nids = 0;
	int			nretry;
	Datum		values[1];
	QueueEntry *entry;
	int			i;
	int			n;

	queue_batch_arg(fcinfo, 1, "ids");
	arr = PG_GETARG_ARRAYTYPE_P(1);

	/* sorted, without NULLs and duplicates */
	deconstruct_array(arr, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE,
					  &elems, &elem_nulls, &nitems);
	ids = palloc(sizeof(int64) * (nitems + 1));
	retry = palloc(sizeof(int64) * (nitems + 1));
	for (i = 0; i < nitems; i++)
		if (!elem_nulls[i])
			ids[nids++] = DatumGetInt64(elems[i]);
	qsort(ids, nids, sizeof(int64), compare_int64);
	for (i = 1, n = (nids > 0); i < nids; i++)
		if (ids[i] != ids[n - 1])
			ids[n++] = ids[i];
	nids = (nids > 0) ? n : 0;

	entry = queue_lookup_for(name, QPRIV_CONSUME, true);
	n = (nids == 0) ? 0 : ack_direct(entry, ids, nids, -1, retry, &nretry);
	if (n < 0 || (nids > 0 && nretry > 0))
	{
		ArrayType  *todo;

		if (n < 0)
		{
			n = 0;
			todo = arr;
		}
		else
		{
			Datum	   *datums = palloc(sizeof(Datum) * nretry);

			for (i = 0; i < nretry; i++)
				datums[i] = Int64GetDatum(retry[i]);
			todo = construct_array(datums, nretry, INT8OID,
								   sizeof(int64), true, TYPALIGN_DOUBLE);
		}
		values[0] = PointerGetDatum(todo);
		queue_spi_connect();
		n += queue_spi_exec(queue_plan(entry, QPLAN_ACK_ARRAY), values, NULL, false, 0,
							entry->has_retention ? SPI_OK_INSERT : SPI_OK_DELETE,
							"ack");
		queue_spi_finish();
	}
	after_ack(entry, n, nids > 0 ? ids[0] : 0);

	PG_RETURN_INT64(n);
}

/*
 * interval_usecs
 *		An interval as microseconds, a month counting as 30 days (as
 *		interval comparison does), saturating instead of overflowing.
 */
static double
interval_usecs(const Interval *span)
{
	return (double) span->time +
		((double) span->day + (double) span->month * DAYS_PER_MONTH) * USECS_PER_DAY;
}

/*
 * queue_backoff
 *		The delay before a nacked message is retried: retry_delay *
 *		2^(delivery_count - 1), capped at retry_delay_max, less a random
 *		jitter of up to a quarter so that messages that failed together do
 *		not all come back at the same instant.
 */
static Interval *
queue_backoff(QueueEntry *entry, int32 delivery_count)
{
	double		base = interval_usecs(&entry->retry_delay);
	double		cap = interval_usecs(&entry->retry_delay_max);
	int			exponent = Min(Max(delivery_count - 1, 0), 62);
	double		delay = base * ldexp(1.0, exponent);
	Interval   *result = palloc0(sizeof(Interval));

	if (delay > cap)
		delay = cap;
	/* no retry waits longer than an option may be (the sum stays in range) */
	if (delay > QUEUE_MAX_SPAN_YEARS * DAYS_PER_YEAR * USECS_PER_DAY)
		delay = QUEUE_MAX_SPAN_YEARS * DAYS_PER_YEAR * USECS_PER_DAY;
	delay *= 1.0 - 0.25 * pg_prng_double(&pg_global_prng_state);
	result->time = (int64) delay;
	return result;
}

/*
 * queue.nack(queue_name, id, delay, reason, receipt) RETURNS boolean
 *		Only a message that has been handed out can be nacked (again, to
 *		change its delay, while it waits for its retry); with a
 *		receipt, only while that delivery is the latest, so a consumer
 *		whose visibility timeout ran out cannot nack (or dead-letter)
 *		another consumer's delivery.
 */
Datum
queue_nack(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	int64		id = id_arg(fcinfo, 1);
	Interval   *delay = queue_interval_arg(fcinfo, 2, "delay");
	QueueEntry *entry;
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int32		delivery_count;
	bool		isnull;

	/* the privilege is the caller's: check it before SPI runs as the owner */
	entry = queue_lookup_for(name, QPRIV_CONSUME, true);
	queue_spi_connect();

	values[0] = Int64GetDatum(id);
	if (queue_spi_exec(queue_plan(entry, QPLAN_NACK_LOCK), values, NULL, false, 1,
					   SPI_OK_SELECT, "nack") == 0)
	{
		queue_spi_finish();
		PG_RETURN_BOOL(false);
	}
	delivery_count = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	if (!PG_ARGISNULL(4) && PG_GETARG_INT32(4) != delivery_count)
	{
		queue_spi_finish();
		PG_RETURN_BOOL(false);
	}

	if (entry->max_deliveries > 0 && delivery_count >= entry->max_deliveries)
	{
		/* this was the last delivery allowed: dead-letter it */
		values[1] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[1] = PG_ARGISNULL(3) ? 'n' : ' ';
		queue_spi_exec(queue_plan(entry, QPLAN_DEAD_LETTER), values, nulls, false, 0,
					   entry->dead_letter_queue[0] ? SPI_OK_SELECT : SPI_OK_INSERT,
					   "dead-letter");
		queue_count_dead(entry->relid, 1);
		if (entry->group_limit > 0)
			queue_note_rewind(entry->relid, id, false);
	}
	else
	{
		if (delay == NULL)
			delay = queue_backoff(entry, delivery_count);
		values[1] = DirectFunctionCall2(timestamptz_pl_interval,
										TimestampTzGetDatum(queue_now()),
										IntervalPGetDatum(delay));
		queue_spi_exec(queue_plan(entry, QPLAN_NACK_RETRY), values, NULL, false, 0,
					   SPI_OK_UPDATE, "nack");
		queue_count_visible(entry->relid, 1);
		/* reads may have passed it, leased: they look again when it is due */
		queue_note_rescan(entry->relid, DatumGetTimestampTz(values[1]));
	}
	queue_spi_finish();

	PG_RETURN_BOOL(true);
}

/*
 * queue.extend(queue_name, id, visibility_timeout, receipt) RETURNS timestamptz
 *		The consumer's heartbeat; NULL when the message is not handed out
 *		(or, with a receipt, has been handed out again since).
 */
Datum
queue_extend(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	int64		id = id_arg(fcinfo, 1);
	Interval   *vt = queue_interval_arg(fcinfo, 2, "visibility_timeout");
	QueueEntry *entry;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	Datum		visible_at = (Datum) 0;
	bool		isnull = true;

	if (vt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("visibility_timeout must not be NULL")));

	/* the privilege is the caller's: check it before SPI runs as the owner */
	entry = queue_lookup_for(name, QPRIV_CONSUME, true);
	queue_spi_connect();
	values[0] = Int64GetDatum(id);
	values[1] = DirectFunctionCall2(timestamptz_pl_interval,
									TimestampTzGetDatum(queue_now()),
									IntervalPGetDatum(vt));
	values[2] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
	nulls[2] = PG_ARGISNULL(3) ? 'n' : ' ';
	if (queue_spi_exec(queue_plan(entry, QPLAN_EXTEND), values, nulls, false, 0,
					   SPI_OK_UPDATE_RETURNING, "extend") > 0)
	{
		visible_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								   1, &isnull);
		/* a shorter timeout than the one reads passed it with */
		if (!isnull)
		{
			bool		count_null;
			int32		delivery_count =
				DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 2, &count_null));

			queue_note_rescan(entry->relid, DatumGetTimestampTz(visible_at));
			/* a last delivery comes due then: the worker dead-letters it */
			if (entry->max_deliveries > 0 && delivery_count >= entry->max_deliveries)
				queue_note_sweep(entry->relid, DatumGetTimestampTz(visible_at));
		}
	}
	queue_spi_finish();

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(visible_at);
}
