/*-------------------------------------------------------------------------
 *
 * queue.c
 *		Module entry point: GUCs, shared memory hooks, callbacks.
 *
 * The SQL API works whether or not the library is preloaded; shared memory
 * (the *_total counters, failed deliveries) and the background worker need
 * shared_preload_libraries = 'queue'.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "queue.h"

PG_MODULE_MAGIC;

int			queue_max_message_size = 1024 * 1024;
int			queue_max_batch = 1000;
int			queue_max_wait = 20000;
int			queue_worker_interval = 1000;
int			queue_worker_batch = 1000;
bool		queue_worker_enabled = true;

/* true when this library was loaded by shared_preload_libraries */
bool		queue_preloaded = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

void		_PG_init(void);
static void queue_shmem_request(void);
static void queue_shmem_startup(void);

/*
 * _PG_init
 *		Define the GUCs; when preloaded, ask for shared memory.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable("queue.max_message_size",
							"Largest message body accepted by queue.send, in bytes.",
							NULL,
							&queue_max_message_size,
							1024 * 1024, 1, MaxAllocSize / 2,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("queue.max_batch",
							"Largest quantity for queue.read and largest batch for queue.send_batch.",
							NULL,
							&queue_max_batch,
							1000, 1, 1000000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("queue.max_wait",
							"Longest long-poll wait accepted by queue.read.",
							NULL,
							&queue_max_wait,
							20000, 0, 3600 * 1000,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("queue.worker_interval",
							"Time between two runs of the queue background worker.",
							NULL,
							&queue_worker_interval,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("queue.worker_batch",
							"Rows the background worker handles in one step.",
							NULL,
							&queue_worker_batch,
							1000, 1, 1000000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("queue.worker_enabled",
							 "Whether the queue background worker does its work.",
							 NULL,
							 &queue_worker_enabled,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("queue.compact_min_size",
							"Smallest message table the worker compacts once it is mostly free space; 0 turns compaction off.",
							NULL,
							&queue_compact_min_size,
							8192, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("queue.compact_max_live",
							"Most live data the worker copies to compact a message table.",
							NULL,
							&queue_compact_max_live,
							65536, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("queue.stats_interval",
							"Shortest time between two measurements of a queue by the worker, for queue.stats and queue.metrics; 0: they always count.",
							NULL,
							&queue_stats_interval,
							5000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

		MarkGUCPrefixReserved("queue");

	queue_plan_cache_init();
	queue_acl_init();
	queue_spi_init();
	queue_counters_init();
	queue_deliveries_init();

	if (!process_shared_preload_libraries_in_progress)
		return;

	queue_preloaded = true;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = queue_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = queue_shmem_startup;
	queue_prepared_init();
	queue_placement_init();

	/* no worker while pg_upgrade runs the server */
	if (!IsBinaryUpgrade)
		queue_worker_register();
}

/*
 * queue_shmem_request
 *		Reserve our shared memory (PG15's shmem_request_hook).
 */
static void
queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	queue_counters_shmem_request();
	queue_deliveries_shmem_request();
	queue_wait_shmem_request();
	queue_worker_shmem_request();
	queue_prepared_shmem_request();
}

/*
 * queue_shmem_startup
 *		Create or attach to our shared memory.
 */
static void
queue_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	queue_counters_shmem_startup();
	queue_deliveries_shmem_startup();
	queue_wait_shmem_startup();
	queue_worker_shmem_startup();
	queue_prepared_shmem_startup();
}
