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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

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
 * queue.ack(queue_name, id, receipt) RETURNS boolean
 */
Datum
queue_ack(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	Datum		values[2];
	QueueEntry *entry;
	QueuePlanKind kind;
	int			n;

	values[0] = Int64GetDatum(id_arg(fcinfo, 1));
	kind = QPLAN_ACK;
	if (!PG_ARGISNULL(2))
	{
		values[1] = PG_GETARG_DATUM(2);
		kind = QPLAN_ACK_RECEIPT;
	}

	queue_spi_connect();
	entry = queue_lookup(name);
	n = queue_spi_exec(queue_plan(entry, kind), values, NULL, false, 0,
					   entry->has_retention ? SPI_OK_INSERT : SPI_OK_DELETE,
					   "ack");
	queue_count_acked(entry->relid, n);
	queue_spi_finish();

	PG_RETURN_BOOL(n > 0);
}

/*
 * queue.ack(queue_name, ids bigint[]) RETURNS bigint
 */
Datum
queue_ack_array(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	ArrayType  *ids;
	Datum		values[1];
	QueueEntry *entry;
	int			nitems;
	int			n;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ids must not be NULL")));
	ids = PG_GETARG_ARRAYTYPE_P(1);
	nitems = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
	if (ARR_NDIM(ids) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ids must be a one-dimensional array")));
	if (nitems > queue_max_batch)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ids has %d elements, more than queue.max_batch (%d)",
						nitems, queue_max_batch)));
	if (nitems == 0)
		PG_RETURN_INT64(0);
	values[0] = PointerGetDatum(ids);

	queue_spi_connect();
	entry = queue_lookup(name);
	n = queue_spi_exec(queue_plan(entry, QPLAN_ACK_ARRAY), values, NULL, false, 0,
					   entry->has_retention ? SPI_OK_INSERT : SPI_OK_DELETE,
					   "ack");
	queue_count_acked(entry->relid, n);
	queue_spi_finish();

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
Interval *
queue_backoff(QueueEntry *entry, int32 delivery_count)
{
	double		base = interval_usecs(&entry->retry_delay);
	double		cap = interval_usecs(&entry->retry_delay_max);
	int			exponent = Min(Max(delivery_count - 1, 0), 62);
	double		delay = base * ldexp(1.0, exponent);
	Interval   *result = palloc0(sizeof(Interval));

	if (delay > cap)
		delay = cap;
	delay *= 1.0 - 0.25 * pg_prng_double(&pg_global_prng_state);
	result->time = (int64) delay;
	return result;
}

/*
 * queue.nack(queue_name, id, delay, reason) RETURNS boolean
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

	queue_spi_connect();
	entry = queue_lookup(name);

	values[0] = Int64GetDatum(id);
	if (queue_spi_exec(queue_plan(entry, QPLAN_NACK_LOCK), values, NULL, false, 1,
					   SPI_OK_SELECT, "nack") == 0)
	{
		queue_spi_finish();
		PG_RETURN_BOOL(false);
	}
	delivery_count = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));

	if (entry->max_deliveries > 0 && delivery_count >= entry->max_deliveries)
	{
		/* this was the last delivery allowed: dead-letter it */
		values[1] = PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3);
		nulls[1] = PG_ARGISNULL(3) ? 'n' : ' ';
		queue_spi_exec(queue_plan(entry, QPLAN_DEAD_LETTER), values, nulls, false, 0,
					   SPI_OK_INSERT, "dead-letter");
		queue_count_dead(entry->relid, 1);
	}
	else
	{
		values[1] = IntervalPGetDatum(delay ? delay : queue_backoff(entry, delivery_count));
		queue_spi_exec(queue_plan(entry, QPLAN_NACK_RETRY), values, NULL, false, 0,
					   SPI_OK_UPDATE, "nack");
	}
	queue_spi_finish();

	PG_RETURN_BOOL(true);
}

/*
 * queue.extend(queue_name, id, visibility_timeout) RETURNS timestamptz
 *		NULL when there is no such message.
 */
Datum
queue_extend(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	int64		id = id_arg(fcinfo, 1);
	Interval   *vt = queue_interval_arg(fcinfo, 2, "visibility_timeout");
	QueueEntry *entry;
	Datum		values[2];
	Datum		visible_at = (Datum) 0;
	bool		isnull = true;

	if (vt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("visibility_timeout must not be NULL")));

	queue_spi_connect();
	entry = queue_lookup(name);
	values[0] = Int64GetDatum(id);
	values[1] = IntervalPGetDatum(vt);
	if (queue_spi_exec(queue_plan(entry, QPLAN_EXTEND), values, NULL, false, 0,
					   SPI_OK_UPDATE_RETURNING, "extend") > 0)
		visible_at = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								   1, &isnull);
	queue_spi_finish();

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(visible_at);
}
