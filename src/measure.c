/*-------------------------------------------------------------------------
 *
 * measure.c
 *		The counts of queue.stats and queue.metrics without a scan.
 *
 * Counting a queue's messages by state (ready, in flight, delayed) means
 * reading its whole table: 133 ms at a million messages, and a dashboard
 * that polls fifty queues every few seconds keeps a core busy.  The split
 * cannot be kept exactly without a scan (it moves with the clock, as
 * delays and visibility timeouts run out), so the worker measures each
 * queue now and then and keeps the result in the queue's counter slot;
 * queue.stats returns it with its time (as_of), in microseconds, and
 * queue.stats(q, exact => true) still counts.
 *
 * A queue is measured again when its table changed since the last
 * measurement (the cumulative statistics count the rows a send inserts, a
 * read updates and an ack deletes), when the first delay or visibility
 * timeout seen by the last measurement has run out, or a minute after the
 * last one while it held messages (dead letters purged, an archive
 * trimmed); never more often than queue.stats_interval, nor than a
 * hundred times what the last measurement took, so that measuring costs
 * the worker at most about 1% of its time per queue however big the
 * queue.  An idle empty queue is never measured again.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "queue.h"

/* a queue that held messages is measured at least this often */
#define MEASURE_BACKSTOP_USECS	(60 * USECS_PER_SEC)
/* ... and at most once per this many times what measuring it took */
#define MEASURE_COST_FACTOR		100

/* GUC (queue.c): milliseconds; 0: queue.stats always counts */
int			queue_stats_interval = 5000;

PG_FUNCTION_INFO_V1(queue_measured_sql);
PG_FUNCTION_INFO_V1(queue_set_measured_sql);

/*
 * queue_measure_reset
 *		Forget a measurement (a new slot, a queue made anew).
 */
void
queue_measure_reset(QueueMeasure *m)
{
	SpinLockAcquire(&m->mutex);
	m->as_of = 0;
	m->ready = m->in_flight = m->delayed = m->dead = m->archived = 0;
	m->oldest_ready = DT_NOEND;
	m->next_change = DT_NOEND;
	m->changes = 0;
	m->changes_due = 0;
	m->cost = 0;
	SpinLockRelease(&m->mutex);
}

/*
 * queue_measure_due
 *		Whether the worker should measure relid's queue now (schedule.c);
 *		if so, the table's change count is kept for the measurement.
 */
bool
queue_measure_due(Oid relid, TimestampTz now)
{
	QueueMeasure *m;
	int64		changes;
	bool		due;

	if (queue_stats_interval <= 0)
		return false;
	m = queue_measure_slot(relid, true);
	if (m == NULL)
		return false;
	/* a table the statistics know nothing of had no changes counted */
	changes = Max(queue_table_changes(relid), 0);

	SpinLockAcquire(&m->mutex);
	if (m->as_of == 0)
		due = true;
	else if (now - m->as_of < Max((int64) queue_stats_interval * 1000,
								  m->cost * MEASURE_COST_FACTOR))
		due = false;
	else
		due = changes != m->changes ||
			m->next_change <= now ||
			(now - m->as_of >= MEASURE_BACKSTOP_USECS &&
			 m->ready + m->in_flight + m->delayed + m->dead + m->archived > 0);
	if (due)
		m->changes_due = changes;
	SpinLockRelease(&m->mutex);
	return due;
}

/*
 * queue._set_measured(relid oid, ready bigint, in_flight bigint,
 *					   delayed bigint, dead bigint, archived bigint,
 *					   oldest_ready timestamptz, next_change timestamptz,
 *					   began timestamptz)
 *		Keep what the worker counted in a measurement that began at
 *		'began' (queue._worker_step).
 */
Datum
queue_set_measured_sql(PG_FUNCTION_ARGS)
{
	QueueMeasure *m;
	TimestampTz began;
	int			i;

	for (i = 0; i < 9; i++)
		if (PG_ARGISNULL(i) && i != 6 && i != 7)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument %d of queue._set_measured must not be NULL", i + 1)));
	m = queue_measure_slot(PG_GETARG_OID(0), true);
	if (m == NULL)
		PG_RETURN_VOID();
	began = PG_GETARG_TIMESTAMPTZ(8);

	SpinLockAcquire(&m->mutex);
	m->ready = PG_GETARG_INT64(1);
	m->in_flight = PG_GETARG_INT64(2);
	m->delayed = PG_GETARG_INT64(3);
	m->dead = PG_GETARG_INT64(4);
	m->archived = PG_GETARG_INT64(5);
	m->oldest_ready = PG_ARGISNULL(6) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(6);
	m->next_change = PG_ARGISNULL(7) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(7);
	m->as_of = began;
	m->changes = m->changes_due;
	m->cost = Max(GetCurrentTimestamp() - began, 0);
	SpinLockRelease(&m->mutex);
	PG_RETURN_VOID();
}

/*
 * queue._measured(relid oid, OUT ready bigint, OUT in_flight bigint,
 *				   OUT delayed bigint, OUT dead bigint, OUT archived bigint,
 *				   OUT oldest_ready_age interval, OUT as_of timestamptz,
 *				   OUT sent_total bigint, OUT acked_total bigint,
 *				   OUT dead_total bigint)
 *		The last measurement of a queue and its counters; the counts are
 *		NULL when it was not measured yet (or the library is not
 *		preloaded), the counters too without the library.  For whoever may
 *		consume from the queue, or has the privileges of pg_read_all_stats
 *		(counts are statistics, as in pg_stat_user_tables).
 */
Datum
queue_measured_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	desc;
	Datum		values[10];
	bool		nulls[10];
	QueueMeasure *m;
	int64		sent,
				acked,
				dead;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		(void) queue_relid_name(relid);
	else
		queue_require_relid(relid, QPRIV_CONSUME);
	desc = BlessTupleDesc(desc);

	for (i = 0; i < 10; i++)
	{
		values[i] = (Datum) 0;
		nulls[i] = true;
	}
	m = queue_measure_slot(relid, false);
	if (m != NULL)
	{
		QueueMeasure copy;

		SpinLockAcquire(&m->mutex);
		copy = *m;
		SpinLockRelease(&m->mutex);
		if (copy.as_of != 0)
		{
			values[0] = Int64GetDatum(copy.ready);
			values[1] = Int64GetDatum(copy.in_flight);
			values[2] = Int64GetDatum(copy.delayed);
			values[3] = Int64GetDatum(copy.dead);
			values[4] = Int64GetDatum(copy.archived);
			if (copy.oldest_ready != DT_NOEND)
			{
				Interval   *age = palloc(sizeof(Interval));

				/* as of the measurement, as the counts */
				age->month = 0;
				age->day = 0;
				age->time = Max(copy.as_of - copy.oldest_ready, 0);
				values[5] = IntervalPGetDatum(age);
				nulls[5] = false;
			}
			values[6] = TimestampTzGetDatum(copy.as_of);
			for (i = 0; i < 7; i++)
				if (i != 5)
					nulls[i] = false;
		}
	}
	queue_read_totals(relid, &sent, &acked, &dead);
	if (sent >= 0)
	{
		values[7] = Int64GetDatum(sent);
		values[8] = Int64GetDatum(acked);
		values[9] = Int64GetDatum(dead);
		nulls[7] = nulls[8] = nulls[9] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
