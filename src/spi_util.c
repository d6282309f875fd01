/*-------------------------------------------------------------------------
 *
 * spi_util.c
 *		One place that runs SPI and checks what it returned.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"

#include "queue.h"

/*
 * The identity each open queue_spi_connect switched from, with the
 * subtransaction it was opened in: an error between connect and finish
 * leaves its entry behind, and the abort of that subtransaction (or of the
 * transaction), which restores the identity itself, drops it.
 */
#define SPI_NEST_MAX	32

typedef struct SavedUser
{
	Oid			userid;
	int			sec_context;
	SubTransactionId subid;
} SavedUser;

static SavedUser saved_users[SPI_NEST_MAX];
static int	nsaved = 0;

static void
spi_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			nsaved = 0;
			break;
		default:
			break;
	}
}

static void
spi_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		while (nsaved > 0 && saved_users[nsaved - 1].subid >= mySubid)
			nsaved--;
}

/*
 * queue_spi_init
 *		Register the callbacks that forget what an error left (_PG_init).
 */
void
queue_spi_init(void)
{
	RegisterXactCallback(spi_xact_callback, NULL);
	RegisterSubXactCallback(spi_subxact_callback, NULL);
}

/*
 * queue_spi_connect / queue_spi_finish
 *		SPI_connect and SPI_finish with their return codes checked.
 *
 * In between, the statements run as the extension's owner, in a
 * security-restricted operation, as the managing functions do (acl.c):
 * the callers checked the queue privilege, and hold no privilege on the
 * tables themselves.  And the search path is pinned to pg_catalog alone
 * (no temporary schema), so that nothing a caller puts on its search_path
 * can change what the statements resolve to.  This is the C equivalent of
 * SECURITY DEFINER with "SET search_path = pg_catalog, pg_temp", which
 * would cost a GUC save and restore on every call of the hot path; the
 * plans are prepared and run under the same pinned path, so the plan
 * cache never sees the path change.  An error pops the path and restores
 * the identity at abort.
 */
/*
 * The one place that depends on PostgreSQL 15/16's namespace.c:
 * PushOverrideSearchPath is gone in 17, where the path would be pinned
 * with NewGUCNestLevel and set_config_option("search_path", "pg_catalog,
 * pg_temp", ..., GUC_ACTION_SAVE) here, and AtEOXact_GUC in unpin (and a
 * GUC save and restore per call to measure on the hot path).
 */
#if PG_VERSION_NUM >= 170000
#error "queue: pin_search_path needs a PostgreSQL 17 implementation (see spi_util.c)"
#endif

static void
pin_search_path(void)
{
	OverrideSearchPath pinned = {NIL, true, false, 0};

	PushOverrideSearchPath(&pinned);
}

static void
unpin_search_path(void)
{
	PopOverrideSearchPath();
}

void
queue_spi_connect(void)
{
	SavedUser  *saved;
	int			rc;

	if (nsaved >= SPI_NEST_MAX)
		elog(ERROR, "queue functions nested too deeply");
	saved = &saved_users[nsaved];
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	saved->subid = GetCurrentSubTransactionId();
	rc = SPI_connect();
	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
	nsaved++;
	SetUserIdAndSecContext(queue_extension_owner(),
						   saved->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	pin_search_path();
}

void
queue_spi_finish(void)
{
	int			rc;

	Assert(nsaved > 0);
	unpin_search_path();
	nsaved--;
	SetUserIdAndSecContext(saved_users[nsaved].userid,
						   saved_users[nsaved].sec_context);
	rc = SPI_finish();
	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed: %s", SPI_result_code_string(rc));
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
		elog(ERROR, "%s failed: %s", what, SPI_result_code_string(rc));
	return (int) SPI_processed;
}
