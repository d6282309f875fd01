/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		One place that runs SPI and checks what it returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"

#include "queue.h"

/*
 * queue_spi_connect / queue_spi_finish
 *		SPI_connect and SPI_finish with their return codes checked.
 *
 * In between, the search path is pinned to pg_catalog alone (no temporary
 * schema), so that nothing a caller puts on its search_path can change
 * what the statements of the C functions resolve to.  This is the C
 * equivalent of "SET search_path = pg_catalog, pg_temp" on the function,
 * which costs a GUC save and restore on every call of the hot path; the
 * plans are prepared and run under the same pinned path, so the plan
 * cache never sees the path change.  An error pops the path at abort.
 */
void
queue_spi_connect(void)
{
	OverrideSearchPath pinned = {NIL, true, false, 0};
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "queue: SPI_connect failed: %s", SPI_result_code_string(rc));
	PushOverrideSearchPath(&pinned);
}

void
queue_spi_finish(void)
{
	int			rc;

	PopOverrideSearchPath();
	rc = SPI_finish();
	if (rc != SPI_OK_FINISH)
		elog(ERROR, "queue: SPI_finish failed: %s", SPI_result_code_string(rc));
}

/*
 * queue_spi_exec
 *		Execute a prepared plan and check that it returned the expected
 *		SPI result code; 'what' names the step in the error message.
 *		Returns the number of rows processed.
 */
int
queue_spi_exec(SPIPlanPtr plan, Datum *values, const char *nulls,
			   bool read_only, long count, int expected, const char *what)
{
	int			rc = SPI_execute_plan(plan, values, nulls, read_only, count);

	if (rc != expected)
		elog(ERROR, "queue: %s failed: %s", what, SPI_result_code_string(rc));
	return (int) SPI_processed;
}
