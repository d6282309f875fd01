/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		One place that runs SPI and checks what it returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "queue.h"

/*
 * queue_spi_connect / queue_spi_finish
 *		SPI_connect and SPI_finish with their return codes checked.
 */
void
queue_spi_connect(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "queue: SPI_connect failed: %s", SPI_result_code_string(rc));
}

void
queue_spi_finish(void)
{
	int			rc = SPI_finish();

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
