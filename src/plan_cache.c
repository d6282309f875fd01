/*-------------------------------------------------------------------------
 *
 * plan_cache.c
 *		Per-backend cache of each queue's options and prepared statements.
 *
 * The first call naming a queue reads its row in queue.registry and the
 * OID of its message table; each statement of the hot path is then
 * prepared once (SPI_prepare + SPI_keepplan) and reused with bound
 * parameters.  A relcache invalidation of the queue's message table (sent
 * by DROP TABLE when the queue is dropped, and explicitly by queue.alter
 * through queue._invalidate) marks the entry stale; its plans are freed and
 * rebuilt on the next call, never inside the callback, which may run while
 * one of them executes.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lmgr.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_invalidate_sql);

static HTAB *queue_cache = NULL;
static SPIPlanPtr registry_plan = NULL;

/* bumped by every relcache invalidation; see queue_lookup */
static uint64 queue_inval_count = 0;

/* the columns of queue.message, in order */
#define MESSAGE_COLUMNS \
	"id, body, headers, delivery_count, enqueued_at, visible_at, " \
	"group_key, idempotency_key, priority"

/*
 * The rows a read hands out: highest priority first, oldest first within a
 * priority, skipping rows other readers have locked.  Priority 0 is the
 * common case and is served in id order by the primary key; other
 * priorities have a partial index of their own, so a queue that never uses
 * priorities pays for one index only.  FOR UPDATE is not allowed in a
 * UNION, so each branch is a CTE of its own; CTE scans run on demand, so
 * the LIMIT stops before a later branch locks anything it does not need.
 * The caller's statement starts "WITH " and goes on after PICK_VISIBLE
 * with ", <next CTE>" that uses PICKED_IDS.  $1 is the quantity, $2 the
 * time visibility is measured against (queue_now()); cond skips messages
 * already delivered max_deliveries times, which the worker dead-letters.
 */
#define PICK_VISIBLE(tab, cond) \
	"pick_high AS MATERIALIZED (SELECT id FROM " tab " m" \
	"  WHERE priority > 0 AND visible_at <= $2 " cond \
	"  ORDER BY priority DESC, id LIMIT $1 FOR UPDATE SKIP LOCKED), " \
	"pick_normal AS MATERIALIZED (SELECT id FROM " tab " m" \
	"  WHERE priority = 0 AND visible_at <= $2 " cond \
	"  ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED), " \
	"pick_low AS MATERIALIZED (SELECT id FROM " tab " m" \
	"  WHERE priority < 0 AND visible_at <= $2 " cond \
	"  ORDER BY priority DESC, id LIMIT $1 FOR UPDATE SKIP LOCKED)"

/*
 * The ids picked, as an array: "id = ANY (PICKED_IDS)" makes even the
 * generic plan fetch them through the primary key instead of hashing the
 * whole table, whatever LIMIT $1 turns out to be.
 */
#define PICKED_IDS \
	"ARRAY(SELECT id FROM pick_high UNION ALL SELECT id FROM pick_normal " \
	"  UNION ALL SELECT id FROM pick_low LIMIT $1)"

static void queue_relcache_callback(Datum arg, Oid relid);
static void queue_load_entry(QueueEntry *entry);
static void queue_free_plans(QueueEntry *entry);

/*
 * queue_plan_cache_init
 *		Create the cache and register the invalidation callback (_PG_init).
 */
void
queue_plan_cache_init(void)
{
	HASHCTL		ctl;

	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(QueueEntry);
	ctl.hcxt = TopMemoryContext;
	queue_cache = hash_create("queue plan cache", 64, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(queue_relcache_callback, (Datum) 0);
}

/*
 * queue_relcache_callback
 *		Mark the entries whose message table was invalidated (all of them
 *		for a cache reset) as stale.
 */
static void
queue_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	QueueEntry *entry;

	queue_inval_count++;
	hash_seq_init(&status, queue_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || entry->relid == relid)
			entry->valid = false;
		/* the anchor of its privileges (acl.c) changed */
		else if (entry->seqid == relid)
			entry->acl_generation = 0;
	}
}

/*
 * queue_free_plans
 *		Release the prepared statements of a stale entry.
 */
static void
queue_free_plans(QueueEntry *entry)
{
	int			i;

	for (i = 0; i < QPLAN_COUNT; i++)
	{
		if (entry->plans[i] != NULL)
		{
			SPI_freeplan(entry->plans[i]);
			entry->plans[i] = NULL;
		}
	}
}

/*
 * queue_load_entry
 *		Read a queue's options and table OID from the catalog.  Raises 42704
 *		when the queue does not exist.  Caller is connected to SPI.
 */
static void
queue_load_entry(QueueEntry *entry)
{
	Datum		arg;
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	if (registry_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT r.visibility_timeout, r.max_deliveries, "
						   "  r.retry_delay, r.retry_delay_max, "
						   "  r.retention IS NOT NULL, "
						   /* no column max_in_flight_per_group before 0.5.0 */
						   "  coalesce((pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'max_in_flight_per_group')::integer, "
						   "           CASE WHEN r.ordered THEN 1 ELSE 0 END), "
						   "  c.oid, r.dedup_window, "
						   /* no column paused before 0.5.0 */
						   "  coalesce((pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'paused')::boolean, false), "
						   /* nor dead_letter_queue */
						   "  coalesce(pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'dead_letter_queue', ''), "
						   /* nor message_ttl */
						   "  (pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'message_ttl')::pg_catalog.interval "
						   "FROM queue.registry r "
						   "JOIN pg_catalog.pg_class c "
						   "  ON c.relname = ('q_' || r.queue_name)::pg_catalog.name "
						   " AND c.relnamespace = 'queue'::pg_catalog.regnamespace "
						   " AND c.relkind = 'r' "
						   "WHERE r.queue_name = $1",
						   1, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare the catalog lookup of queues: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		registry_plan = plan;
	}

	/*
	 * Not read-only: SPI then takes a new snapshot, which sees a queue
	 * dropped and created again earlier in the caller's statement.
	 */
	arg = CStringGetTextDatum(entry->name);
	if (queue_spi_exec(registry_plan, &arg, NULL, false, 1, SPI_OK_SELECT,
					   "catalog lookup") == 0)
		queue_report_missing(entry->name);

	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	entry->visibility_timeout = *DatumGetIntervalP(SPI_getbinval(tup, desc, 1, &isnull));
	entry->max_deliveries = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
	entry->retry_delay = *DatumGetIntervalP(SPI_getbinval(tup, desc, 3, &isnull));
	entry->retry_delay_max = *DatumGetIntervalP(SPI_getbinval(tup, desc, 4, &isnull));
	entry->has_retention = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
	entry->group_limit = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	entry->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 7, &isnull));
	entry->dedup_window = *DatumGetIntervalP(SPI_getbinval(tup, desc, 8, &isnull));
	entry->paused = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
	text_to_cstring_buffer(DatumGetTextPP(SPI_getbinval(tup, desc, 10, &isnull)),
						   entry->dead_letter_queue, NAMEDATALEN);
	{
		Datum		ttl = SPI_getbinval(tup, desc, 11, &isnull);

		entry->has_ttl = !isnull;
		if (!isnull)
			entry->message_ttl = *DatumGetIntervalP(ttl);
	}
	entry->seqid = getIdentitySequence(entry->relid, 1, true);
	/*
	 * Every message table has its identity sequence; none means the table
	 * was dropped after the query above saw it (the catalog lookup takes a
	 * newer snapshot): the queue is gone, as far as this call goes.
	 */
	if (!OidIsValid(entry->seqid))
		queue_report_missing(entry->name);
}

/*
 * queue_lookup
 *		The cache entry of a queue, loaded or reloaded when needed.
 *		The caller has validated the name.  The hot path needs no SPI
 *		connection: one is made here only to read the catalog.
 */
QueueEntry *
queue_lookup(const char *name)
{
	QueueEntry *entry;
	QueueEntry	loaded;
	uint64		inval_before;

	entry = hash_search(queue_cache, name, HASH_FIND, NULL);
	if (entry != NULL && entry->valid)
		return entry;
	if (entry != NULL)
		queue_free_plans(entry);

	/* read the catalog first, so that a missing queue leaves no entry */
	strlcpy(loaded.name, name, NAMEDATALEN);
	inval_before = queue_inval_count;
	queue_spi_connect();
	queue_load_entry(&loaded);
	queue_spi_finish();

	if (entry == NULL)
	{
		entry = hash_search(queue_cache, name, HASH_ENTER, NULL);
		memset(entry->plans, 0, sizeof(entry->plans));
	}
	entry->relid = loaded.relid;
	entry->visibility_timeout = loaded.visibility_timeout;
	entry->max_deliveries = loaded.max_deliveries;
	entry->retry_delay = loaded.retry_delay;
	entry->retry_delay_max = loaded.retry_delay_max;
	entry->has_retention = loaded.has_retention;
	entry->dedup_window = loaded.dedup_window;
	entry->seqid = loaded.seqid;
	entry->group_limit = loaded.group_limit;
	entry->paused = loaded.paused;
	strlcpy(entry->dead_letter_queue, loaded.dead_letter_queue, NAMEDATALEN);
	entry->has_ttl = loaded.has_ttl;
	entry->message_ttl = loaded.message_ttl;
	entry->direct_ok = -1;
	memset(entry->index_oids, 0, sizeof(entry->index_oids));
	entry->acl_user = InvalidOid;
	entry->acl_generation = 0;

	/*
	 * An invalidation that arrived while we were reading the catalog may
	 * concern this queue; use what we read for this call, which is as fresh
	 * as our snapshot, but read it again next time.
	 */
	entry->valid = (queue_inval_count == inval_before);
	return entry;
}

/*
 * queue_lookup_for
 *		queue_lookup, and raise 42501 unless the current user holds priv on
 *		the queue; with lock, first take the message table's lock.
 */
QueueEntry *
queue_lookup_for(const char *name, QueuePrivilege priv, bool lock)
{
	QueueEntry *entry = queue_lookup(name);

	/*
	 * Lock the message table before any other of the queue's, as queue.drop
	 * and queue.alter do, so that they wait for us or we for them, and
	 * never deadlock.  A queue dropped (or dropped and made again) while we
	 * waited shows as an invalidated entry once the lock is granted.  (A
	 * read touches the message table first anyway, and a long poll must
	 * not hold the lock while it sleeps.)
	 */
	while (lock)
	{
		Oid			relid = entry->relid;

		LockRelationOid(relid, RowExclusiveLock);
		if (entry->valid)
			break;
		entry = queue_lookup(name);		/* 42704 if it is gone */
		if (entry->relid == relid)
			break;
	}
	queue_require(entry, priv);
	return entry;
}

/*
 * queue_plan_sql
 *		The text and parameter types of one statement of a queue.
 */
static char *
queue_plan_sql(QueueEntry *entry, QueuePlanKind kind, int *nargs, Oid *argtypes)
{
	char		buf[NAMEDATALEN];
	char	   *q,
			   *dl,
			   *ar,
			   *kt,
			   *pt,
			   *undelivered;

	queue_relname(buf, "q_", entry->name);
	q = psprintf("queue.%s", quote_identifier(buf));
	queue_relname(buf, "dl_", entry->name);
	dl = psprintf("queue.%s", quote_identifier(buf));
	queue_relname(buf, "a_", entry->name);
	ar = psprintf("queue.%s", quote_identifier(buf));
	queue_relname(buf, "k_", entry->name);
	kt = psprintf("queue.%s", quote_identifier(buf));
	queue_relname(buf, "p_", entry->name);
	pt = psprintf("queue.%s", quote_identifier(buf));
	undelivered = entry->max_deliveries > 0 ?
		psprintf("AND delivery_count < %d ", entry->max_deliveries) : "";

	/*
	 * Ordered queues: a message is handed out only when no earlier message
	 * of its group is left in the queue (acked and dead-lettered ones are
	 * gone), which also keeps one message per group in flight; with
	 * max_in_flight_per_group n, when fewer than n are (read.c,
	 * group_blocked).
	 */
	if (entry->group_limit == 1)
		undelivered = psprintf("%sAND (m.group_key IS NULL OR NOT EXISTS ("
							   "SELECT 1 FROM %s e WHERE e.group_key = m.group_key "
							   "AND e.id < m.id)) ", undelivered, q);
	else if (entry->group_limit > 1)
		undelivered = psprintf("%sAND (m.group_key IS NULL OR (SELECT count(*) FROM ("
							   "SELECT 1 FROM %s e WHERE e.group_key = m.group_key "
							   "AND e.id < m.id LIMIT %d) e) < %d) ", undelivered, q,
							   entry->group_limit, entry->group_limit);

	/* nor one whose own expiry (send's ttl) has passed */
	undelivered = psprintf("%sAND NOT coalesce((m.headers OPERATOR(pg_catalog.->>) %s)::pg_catalog.timestamptz "
						   "OPERATOR(pg_catalog.<=) $2, false) ",
						   undelivered, quote_literal_cstr(QUEUE_EXPIRES_HEADER));

	/* message_ttl: an expired message is not handed out ($2 is now) */
	if (entry->has_ttl)
		undelivered = psprintf("%sAND m.enqueued_at > $2 - %s::pg_catalog.interval ",
							   undelivered,
							   quote_literal_cstr(DatumGetCString(DirectFunctionCall1(interval_out,
																					  IntervalPGetDatum(&entry->message_ttl)))));

	switch (kind)
	{
		case QPLAN_SEND:
			/* $7: the id, when an idempotency key or sequence claimed one */
			*nargs = 7;
			argtypes[0] = JSONBOID;
			argtypes[1] = JSONBOID;
			argtypes[2] = INTERVALOID;
			argtypes[3] = TEXTOID;
			argtypes[4] = TEXTOID;
			argtypes[5] = INT4OID;
			argtypes[6] = INT8OID;
			/* the caller takes the id: no RETURNING, which would need
			 * SELECT on the table, and a producer may not read */
			return psprintf("INSERT INTO %s (id, body, headers, visible_at, group_key, "
							"  idempotency_key, priority) "
							"VALUES ($7, $1, $2, now() + $3, $4, $5, $6)", q);

		case QPLAN_CLAIM_KEY:
			/*
			 * A unique index on the key does what the contract asks: a
			 * second sender of the same key waits for the first, then
			 * conflicts if it committed or goes ahead if it rolled back.  A
			 * key older than dedup_window is claimed again.
			 */
			*nargs = 3;
			argtypes[0] = TEXTOID;
			argtypes[1] = INT8OID;
			argtypes[2] = INTERVALOID;
			return psprintf("INSERT INTO %s AS k (key, id, created_at) "
							"VALUES ($1, coalesce($2, pg_catalog.nextval(%u::pg_catalog.regclass)), now()) "
							"ON CONFLICT (key) DO UPDATE "
							"  SET id = excluded.id, created_at = excluded.created_at "
							"  WHERE k.created_at < now() - $3 "
							"RETURNING id", kt, entry->seqid);

		case QPLAN_KEY_ID:
			*nargs = 1;
			argtypes[0] = TEXTOID;
			return psprintf("SELECT id FROM %s WHERE key = $1", kt);

		case QPLAN_CLAIM_SEQ:
			*nargs = 2;
			argtypes[0] = TEXTOID;
			argtypes[1] = INT8OID;
			return psprintf("INSERT INTO %s (producer, seq, id, seen_at) "
							"VALUES ($1, $2, pg_catalog.nextval(%u::pg_catalog.regclass), now()) "
							"ON CONFLICT (producer, seq) DO NOTHING RETURNING id",
							pt, entry->seqid);

		case QPLAN_SEQ_ID:
			*nargs = 2;
			argtypes[0] = TEXTOID;
			argtypes[1] = INT8OID;
			return psprintf("SELECT id FROM %s WHERE producer = $1 AND seq = $2", pt);

		case QPLAN_SEQ_SET_ID:
			*nargs = 3;
			argtypes[0] = TEXTOID;
			argtypes[1] = INT8OID;
			argtypes[2] = INT8OID;
			return psprintf("UPDATE %s SET id = $3 WHERE producer = $1 AND seq = $2", pt);

		case QPLAN_SEND_BATCH:
			*nargs = 7;
			argtypes[0] = JSONBARRAYOID;
			argtypes[1] = JSONBARRAYOID;
			argtypes[2] = INTERVALOID;
			argtypes[3] = TEXTARRAYOID;
			argtypes[4] = TEXTARRAYOID;
			argtypes[5] = INT4OID;
			argtypes[6] = INT8ARRAYOID;
			/* ids from the caller, as for QPLAN_SEND */
			return psprintf("INSERT INTO %s (id, body, headers, visible_at, group_key, "
							"  idempotency_key, priority) "
							"SELECT i, b, h, now() + $3, g, k, $6 "
							"FROM ROWS FROM (pg_catalog.unnest($7), pg_catalog.unnest($1), "
							"  pg_catalog.unnest($2), pg_catalog.unnest($4), "
							"  pg_catalog.unnest($5)) "
							"  WITH ORDINALITY AS u(i, b, h, g, k, n) "
							"ORDER BY n", q);

		case QPLAN_READ:
			*nargs = 3;
			argtypes[0] = INT4OID;
			argtypes[1] = TIMESTAMPTZOID;
			argtypes[2] = INTERVALOID;
			return psprintf("WITH " PICK_VISIBLE("%1$s", "%2$s") ", "
							"handed AS (UPDATE %1$s m SET visible_at = $2 + $3, "
							"    delivery_count = m.delivery_count + 1, leased = true "
							"  WHERE m.id = ANY (" PICKED_IDS ") "
							"  RETURNING m.id, m.body, m.headers, m.delivery_count, "
							"    m.enqueued_at, m.visible_at, m.group_key, "
							"    m.idempotency_key, m.priority) "
							"SELECT " MESSAGE_COLUMNS " FROM handed "
							"ORDER BY priority DESC, id", q, undelivered);

		case QPLAN_POP:
			*nargs = 2;
			argtypes[0] = INT4OID;
			argtypes[1] = TIMESTAMPTZOID;
			if (entry->has_retention)
				return psprintf("WITH " PICK_VISIBLE("%1$s", "%2$s") ", "
								"taken AS (DELETE FROM %1$s m "
								"  WHERE m.id = ANY (" PICKED_IDS ") "
								"  RETURNING m.id, m.body, m.headers, m.delivery_count + 1 AS delivery_count, "
								"    m.enqueued_at, m.visible_at, m.group_key, "
								"    m.idempotency_key, m.priority), "
								"kept AS (INSERT INTO %3$s (id, body, headers, delivery_count, "
								"    enqueued_at, group_key, idempotency_key, priority) "
								"  SELECT id, body, headers, delivery_count, enqueued_at, "
								"    group_key, idempotency_key, priority FROM taken) "
								"SELECT " MESSAGE_COLUMNS " FROM taken "
								"ORDER BY priority DESC, id", q, undelivered, ar);
			return psprintf("WITH " PICK_VISIBLE("%1$s", "%2$s") ", "
							"taken AS (DELETE FROM %1$s m "
							"  WHERE m.id = ANY (" PICKED_IDS ") "
							"  RETURNING m.id, m.body, m.headers, m.delivery_count + 1 AS delivery_count, "
							"    m.enqueued_at, m.visible_at, m.group_key, "
							"    m.idempotency_key, m.priority) "
							"SELECT " MESSAGE_COLUMNS " FROM taken "
							"ORDER BY priority DESC, id", q, undelivered);

		case QPLAN_ACK:
		case QPLAN_ACK_RECEIPT:
		case QPLAN_ACK_ARRAY:
			{
				const char *cond;

				if (kind == QPLAN_ACK)
				{
					*nargs = 1;
					argtypes[0] = INT8OID;
					cond = "id = $1";
				}
				else if (kind == QPLAN_ACK_RECEIPT)
				{
					*nargs = 2;
					argtypes[0] = INT8OID;
					argtypes[1] = INT4OID;
					cond = "id = $1 AND delivery_count = $2";
				}
				else
				{
					*nargs = 1;
					argtypes[0] = INT8ARRAYOID;
					cond = "id = ANY ($1)";
				}
				if (entry->has_retention)
					return psprintf("WITH acked AS (DELETE FROM %s WHERE %s "
									"  RETURNING id, body, headers, delivery_count, "
									"    enqueued_at, group_key, idempotency_key, priority) "
									"INSERT INTO %s (id, body, headers, delivery_count, "
									"  enqueued_at, group_key, idempotency_key, priority) "
									"SELECT * FROM acked", q, cond, ar);
				return psprintf("DELETE FROM %s WHERE %s", q, cond);
			}

		case QPLAN_NACK_LOCK:
			*nargs = 1;
			argtypes[0] = INT8OID;
			return psprintf("SELECT delivery_count FROM %s "
							"WHERE id = $1 AND delivery_count > 0 FOR UPDATE", q);

		case QPLAN_NACK_RETRY:
			*nargs = 2;
			argtypes[0] = INT8OID;
			argtypes[1] = TIMESTAMPTZOID;
			return psprintf("UPDATE %s SET visible_at = $2, leased = false "
							"WHERE id = $1", q);

		case QPLAN_DEAD_LETTER:
			*nargs = 2;
			argtypes[0] = INT8OID;
			argtypes[1] = TEXTOID;
			/* into another queue, as a new message (sql/queue.sql) */
			if (entry->dead_letter_queue[0] != '\0')
				return psprintf("SELECT queue._forward_dead(%s, %s, ARRAY[$1]::pg_catalog.int8[], $2)",
								quote_literal_cstr(entry->name),
								quote_literal_cstr(entry->dead_letter_queue));
			return psprintf("WITH dead AS (DELETE FROM %s WHERE id = $1 "
							"  RETURNING id, body, headers, delivery_count, "
							"    enqueued_at, group_key, idempotency_key, priority) "
							"INSERT INTO %s (id, body, headers, delivery_count, "
							"  enqueued_at, reason, group_key, idempotency_key, priority) "
							"SELECT id, body, headers, delivery_count, enqueued_at, $2, "
							"  group_key, idempotency_key, priority FROM dead", q, dl);

		case QPLAN_EXTEND:
			*nargs = 3;
			argtypes[0] = INT8OID;
			argtypes[1] = TIMESTAMPTZOID;
			argtypes[2] = INT4OID;
			return psprintf("UPDATE %s SET visible_at = $2 "
							"WHERE id = $1 AND leased "
							"  AND ($3::pg_catalog.int4 IS NULL OR delivery_count = $3) "
							"RETURNING visible_at, delivery_count", q);

		case QPLAN_COUNT:
			break;
	}
	elog(ERROR, "unknown plan kind %d", (int) kind);
	return NULL;				/* keep compiler quiet */
}

/*
 * queue_plan
 *		The prepared statement of the given kind for a queue, prepared on
 *		first use and kept until the entry goes stale.  The caller is
 *		connected to SPI.
 */
SPIPlanPtr
queue_plan(QueueEntry *entry, QueuePlanKind kind)
{
	if (entry->plans[kind] == NULL)
	{
		Oid			argtypes[8];
		int			nargs = 0;
		char	   *sql = queue_plan_sql(entry, kind, &nargs, argtypes);
		SPIPlanPtr	plan;

		plan = SPI_prepare(sql, nargs, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare statement for queue \"%s\": %s",
				 entry->name, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		entry->plans[kind] = plan;
	}
	return entry->plans[kind];
}

/*
 * queue._invalidate(queue_name text)
 *		Tell every backend (at commit) that a queue's options changed, so
 *		that cached options and plans are rebuilt.  Used by queue.alter.
 */
Datum
queue_invalidate_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = queue_table_oid(queue_name_arg(fcinfo, 0));

	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	PG_RETURN_VOID();
}
