/*-------------------------------------------------------------------------
 *
 * read.c
 *		queue.read and queue.pop: consuming messages.
 *
 * read locks up to quantity visible messages with FOR UPDATE SKIP LOCKED
 * (never waiting for another reader), makes them invisible until now() +
 * visibility_timeout and counts the delivery; pop deletes them instead
 * (at-most-once).  Both return rows of type queue.message, highest
 * priority first and oldest first within a priority.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_read);
PG_FUNCTION_INFO_V1(queue_pop);

/*
 * return_spi_rows
 *		Copy the rows of the last SPI statement, whose columns are those of
 *		queue.message, into the function's result set.
 */
static void
return_spi_rows(FunctionCallInfo fcinfo, int nrows)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	for (i = 0; i < nrows; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
}

/*
 * queue.read(queue_name, quantity, visibility_timeout, wait)
 *		RETURNS SETOF queue.message
 *
 * wait is validated against queue.max_wait; sleeping until a message
 * arrives (long polling) is not implemented yet, so read returns at once.
 */
Datum
queue_read(PG_FUNCTION_ARGS)
{
	char	   *name;
	int32		quantity;
	Interval   *vt;
	Datum		values[2];
	QueueEntry *entry;
	int			n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	name = queue_name_arg(fcinfo, 0);
	quantity = queue_quantity_arg(fcinfo, 1, 1);
	vt = queue_interval_arg(fcinfo, 2, "visibility_timeout");
	(void) queue_interval_arg(fcinfo, 3, "wait");

	queue_spi_connect();
	entry = queue_lookup(name);
	values[0] = Int32GetDatum(quantity);
	values[1] = IntervalPGetDatum(vt ? vt : &entry->visibility_timeout);
	n = queue_spi_exec(queue_plan(entry, QPLAN_READ), values, NULL, false, 0,
					   SPI_OK_SELECT, "read");
	return_spi_rows(fcinfo, n);
	queue_spi_finish();

	return (Datum) 0;
}

/*
 * queue.pop(queue_name, quantity) RETURNS SETOF queue.message
 *		Read and delete (or archive, with a retention) in one step.
 */
Datum
queue_pop(PG_FUNCTION_ARGS)
{
	char	   *name;
	int32		quantity;
	Datum		values[1];
	QueueEntry *entry;
	int			n;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	name = queue_name_arg(fcinfo, 0);
	quantity = queue_quantity_arg(fcinfo, 1, 1);

	queue_spi_connect();
	entry = queue_lookup(name);
	values[0] = Int32GetDatum(quantity);
	n = queue_spi_exec(queue_plan(entry, QPLAN_POP), values, NULL, false, 0,
					   SPI_OK_SELECT, "pop");
	return_spi_rows(fcinfo, n);
	queue_count_acked(entry->relid, n);
	queue_spi_finish();

	return (Datum) 0;
}
