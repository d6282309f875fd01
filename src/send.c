/*-------------------------------------------------------------------------
 *
 * send.c
 *		queue.send and queue.send_batch: producing messages.
 *
 * Both insert into the queue's message table with a prepared statement, in
 * the caller's transaction: the message is invisible to readers until the
 * caller commits and gone if it rolls back (the transactional outbox).
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/heapam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_send);
PG_FUNCTION_INFO_V1(queue_send_batch);

static int64 queue_next_id(QueueEntry *entry);

/* One message to insert directly */
typedef struct NewMessage
{
	int64		id;				/* 0: take the next from the sequence */
	bool		duplicate;		/* its key or sequence number was seen: skip */
	Datum		body;
	Datum		headers;		/* NULL pointer: none */
	Datum		group_key;		/* likewise */
	Datum		idempotency_key;	/* likewise */
} NewMessage;

/*
 * message_values
 *		The column values of a new message row; takes its id from the
 *		sequence when it has none yet.
 */
static int64
message_values(QueueEntry *entry, const NewMessage *msg, TimestampTz now,
			   Datum visible_at, Datum priority, Datum *values, bool *nulls)
{
	int64		id = msg->id;

	/* as the identity column would, without a privilege check of its own */
	if (id == 0)
		id = queue_next_id(entry);
	memset(nulls, 0, sizeof(bool) * MSG_NATTS);
	values[MSG_ID] = Int64GetDatum(id);
	values[MSG_BODY] = msg->body;
	values[MSG_HEADERS] = msg->headers;
	nulls[MSG_HEADERS] = (msg->headers == (Datum) 0);
	values[MSG_DELIVERY_COUNT] = Int32GetDatum(0);
	values[MSG_ENQUEUED_AT] = TimestampTzGetDatum(now);
	values[MSG_VISIBLE_AT] = visible_at;
	values[MSG_GROUP_KEY] = msg->group_key;
	nulls[MSG_GROUP_KEY] = (msg->group_key == (Datum) 0);
	values[MSG_IDEMPOTENCY_KEY] = msg->idempotency_key;
	nulls[MSG_IDEMPOTENCY_KEY] = (msg->idempotency_key == (Datum) 0);
	values[MSG_PRIORITY] = priority;
	values[MSG_LEASED] = BoolGetDatum(false);
	return id;
}

/*
 * insert_message
 *		Insert one message into a table opened by direct_open (with its
 *		indexes) and return its id.
 */
static int64
insert_message(QueueEntry *entry, DirectTable *dt, const NewMessage *msg,
			   TimestampTz now, Datum visible_at, Datum priority)
{
	Datum		values[MSG_NATTS];
	bool		nulls[MSG_NATTS];
	HeapTuple	tuple;
	int64		id;

	id = message_values(entry, msg, now, visible_at, priority, values, nulls);
	tuple = heap_form_tuple(RelationGetDescr(dt->rel), values, nulls);
	heap_insert(dt->rel, tuple, GetCurrentCommandId(true), 0, NULL);
	direct_index_insert(dt, values, nulls, &tuple->t_self, false);
	heap_freetuple(tuple);
	return id;
}

/* rows per heap_multi_insert call, as COPY FROM batches them */
#define MULTI_INSERT_ROWS 1000

/*
 * insert_messages
 *		Insert the messages that are not duplicates with heap_multi_insert,
 *		as COPY FROM does: one WAL record and one buffer lock per page
 *		instead of per row.  Then index them, in input order.
 */
static void
insert_messages(QueueEntry *entry, DirectTable *dt, const NewMessage *msgs,
				int n, TimestampTz now, Datum visible_at, Datum priority,
				int64 *ids)
{
	CommandId	cid = GetCurrentCommandId(true);
	MemoryContext batch_cxt;
	MemoryContext old_cxt;
	TupleDesc	desc;
	TupleTableSlot **slots;
	Datum	   *values;
	bool	   *nulls;
	int			nslots = Min(n, MULTI_INSERT_ROWS);
	int			i = 0;
	int			j;

	/*
	 * Everything of the batch in one context, deleted at the end: no slot
	 * is dropped one by one, and the copy of the descriptor is not
	 * reference-counted, so the slots pin nothing.
	 */
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "queue send_batch",
									  ALLOCSET_DEFAULT_SIZES);
	old_cxt = MemoryContextSwitchTo(batch_cxt);
	desc = CreateTupleDescCopy(RelationGetDescr(dt->rel));
	slots = palloc(sizeof(TupleTableSlot *) * nslots);
	/* each row's values, kept for its index entries */
	values = palloc(sizeof(Datum) * MSG_NATTS * nslots);
	nulls = palloc(sizeof(bool) * MSG_NATTS * nslots);
	for (j = 0; j < nslots; j++)
		slots[j] = MakeTupleTableSlot(desc, &TTSOpsHeapTuple);
	while (i < n)
	{
		int			nrows = 0;

		for (; i < n && nrows < nslots; i++)
		{
			Datum	   *v = &values[nrows * MSG_NATTS];
			bool	   *isnull = &nulls[nrows * MSG_NATTS];

			if (msgs[i].duplicate)
			{
				ids[i] = msgs[i].id;
				continue;
			}
			ids[i] = message_values(entry, &msgs[i], now, visible_at, priority,
									v, isnull);
			/*
			 * The slot owns the tuple, so heap_multi_insert takes it as is
			 * (the slot frees it when it takes the next one).
			 */
			ExecStoreHeapTuple(heap_form_tuple(desc, v, isnull), slots[nrows++], true);
		}
		if (nrows == 0)
			break;
		heap_multi_insert(dt->rel, slots, nrows, cid, 0, NULL);
		for (j = 0; j < nrows; j++)
			direct_index_insert(dt, &values[j * MSG_NATTS], &nulls[j * MSG_NATTS],
								&slots[j]->tts_tid, false);
	}
	MemoryContextSwitchTo(old_cxt);
	MemoryContextDelete(batch_cxt);
}

/*
 * queue_next_id
 *		The next id of a queue, as its identity column would take it but
 *		without a privilege check of its own, told to the read position
 *		(between queue_sending_begin and queue_sending_end).
 */
static int64
queue_next_id(QueueEntry *entry)
{
	int64		id = nextval_internal(entry->seqid, false);

	queue_sending_id(entry->relid, id);
	return id;
}

/*
 * send_direct
 *		Insert messages with the table access method, without planning or
 *		running a statement (see direct.c), putting their ids in ids[];
 *		duplicates are skipped.  Returns false, having done nothing, when
 *		the SQL path must be used.
 */
static bool
send_direct(QueueEntry *entry, const NewMessage *msgs, int n, Interval *delay,
			int32 priority, int64 *ids)
{
	DirectTable dt;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		visible_at;

	if (!direct_open(entry, true, &dt))
		return false;
	visible_at = DirectFunctionCall2(timestamptz_pl_interval,
									 TimestampTzGetDatum(now), IntervalPGetDatum(delay));
	if (n == 1)
		ids[0] = msgs[0].duplicate ? msgs[0].id :
			insert_message(entry, &dt, &msgs[0], now, visible_at,
						   Int32GetDatum(priority));
	else
		insert_messages(entry, &dt, msgs, n, now, visible_at,
						Int32GetDatum(priority), ids);
	direct_close(&dt);
	return true;
}

/*
 * with_expiry
 *		The headers of a message sent with a ttl: its own expiry (at) in
 *		QUEUE_EXPIRES_HEADER, added to the caller's headers (NULL: none),
 *		as an ISO 8601 time.  The queue's slot is marked first, so that
 *		reads look at headers (counters.c).
 */
static Datum
with_expiry(QueueEntry *entry, Datum headers, TimestampTz at)
{
	char		buf[MAXDATELEN + 1];
	Datum		obj;

	queue_expiry_headers_mark(entry->relid);
	JsonEncodeDateTime(buf, TimestampTzGetDatum(at), TIMESTAMPTZOID, NULL);
	obj = DirectFunctionCall1(jsonb_in,
							  CStringGetDatum(psprintf("{\"%s\": \"%s\"}",
													   QUEUE_EXPIRES_HEADER, buf)));
	if (headers == (Datum) 0)
		return obj;
	return DirectFunctionCall2(jsonb_concat, headers, obj);
}

/*
 * ttl_arg
 *		send's and send_batch's ttl (argument argno, if the SQL declares
 *		it): when the messages expire, or 0 for no ttl (NULL or 0).
 */
static TimestampTz
ttl_arg(FunctionCallInfo fcinfo, int argno)
{
	Interval   *ttl;

	if (PG_NARGS() <= argno)
		return 0;
	ttl = queue_interval_arg(fcinfo, argno, "ttl");
	if (ttl == NULL || (ttl->time == 0 && ttl->day == 0 && ttl->month == 0))
		return 0;
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(queue_now()),
												   IntervalPGetDatum(ttl)));
}

/*
 * note_expiry
 *		On a queue with a message_ttl, tell the worker when the messages
 *		just sent may expire (at commit): no earlier than the start of this
 *		transaction, which is before their enqueued_at, plus the ttl.
 */
static void
note_expiry(QueueEntry *entry)
{
	if (!entry->has_ttl)
		return;
	queue_note_expiry(entry->relid,
					  DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
															  TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
															  IntervalPGetDatum(&entry->message_ttl))),
					  false);
}

/*
 * The fourth field of the advisory lock tag of a group: SQL's advisory
 * locks use 1 (one bigint key) and 2 (two integer keys), so no
 * pg_advisory_lock call can take or wait for a group's lock.
 */
#define GROUP_LOCK_FIELD4	3

/*
 * lock_group
 *		On a queue that limits its groups (ordered, or max_in_flight_per_group),
 *		senders of one group take turns until commit:
 *		a message must not become visible before an earlier-numbered one of
 *		its group that is still uncommitted, or the group would be read out
 *		of order.  A transaction-level lock on (queue, group) taken before
 *		the id is assigned does it.
 */
static void
lock_group(QueueEntry *entry, uint32 hash)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, entry->relid, hash, GROUP_LOCK_FIELD4);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

static uint32
group_hash(Datum group_key)
{
	return DatumGetUInt32(DirectFunctionCall1Coll(hashtext, C_COLLATION_OID, group_key));
}

static int
compare_uint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

/*
 * lock_groups
 *		lock_group for the messages of a batch, in a fixed order so that two
 *		batches cannot deadlock.
 */
static void
lock_groups(QueueEntry *entry, NewMessage *msgs, int n)
{
	uint32	   *hashes = palloc(sizeof(uint32) * n);
	int			nhashes = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (msgs[i].group_key != (Datum) 0)
			hashes[nhashes++] = group_hash(msgs[i].group_key);
	qsort(hashes, nhashes, sizeof(uint32), compare_uint32);
	for (i = 0; i < nhashes; i++)
		if (i == 0 || hashes[i] != hashes[i - 1])
			lock_group(entry, hashes[i]);
	pfree(hashes);
}

/*
 * claim_id
 *		For a message sent with an idempotency key or a producer sequence
 *		number: claim them, and decide its id.  Sets msg->id to the id the
 *		message will have, or, when the key (within dedup_window) or the
 *		sequence number was seen before, to the first message's id and
 *		msg->duplicate.  The claims are rows in the queue's k_ and p_
 *		tables, so they are as transactional as the message.
 */
static void
claim_id(QueueEntry *entry, NewMessage *msg, Datum producer, Datum seq,
		 bool has_producer)
{
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;

	/* the worker forgets keys and producers past dedup_window */
	queue_housekeeping(entry->relid, 1);
	queue_spi_connect();
	if (has_producer)
	{
		values[0] = producer;
		values[1] = seq;
		if (queue_spi_exec(queue_plan(entry, QPLAN_CLAIM_SEQ), values, NULL, false, 1,
						   SPI_OK_INSERT_RETURNING, "producer sequence claim") == 0)
		{
			queue_spi_exec(queue_plan(entry, QPLAN_SEQ_ID), values, NULL, false, 1,
						   SPI_OK_SELECT, "producer sequence lookup");
			msg->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
			msg->duplicate = true;
			queue_spi_finish();
			return;
		}
		msg->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull));
		queue_sending_id(entry->relid, msg->id);
	}
	if (msg->idempotency_key != (Datum) 0)
	{
		values[0] = msg->idempotency_key;
		values[1] = Int64GetDatum(msg->id);
		nulls[1] = (msg->id == 0) ? 'n' : ' ';
		values[2] = IntervalPGetDatum(&entry->dedup_window);
		if (queue_spi_exec(queue_plan(entry, QPLAN_CLAIM_KEY), values, nulls, false, 1,
						   SPI_OK_INSERT_RETURNING, "idempotency key claim") == 0)
		{
			queue_spi_exec(queue_plan(entry, QPLAN_KEY_ID), values, NULL, false, 1,
						   SPI_OK_SELECT, "idempotency key lookup");
			msg->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
			msg->duplicate = true;
			if (has_producer)
			{
				/* the sequence number resolves to the first message too */
				values[0] = producer;
				values[1] = seq;
				values[2] = Int64GetDatum(msg->id);
				queue_spi_exec(queue_plan(entry, QPLAN_SEQ_SET_ID), values, NULL, false, 0,
							   SPI_OK_UPDATE, "producer sequence update");
			}
		}
		else
		{
			msg->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
			queue_sending_id(entry->relid, msg->id);
		}
	}
	queue_spi_finish();
}

/*
 * send_sql
 *		Insert one message with the prepared statement (the general path).
 */
static int64
send_sql(QueueEntry *entry, const NewMessage *msg, Interval *delay, int32 priority)
{
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int64		id;

	values[0] = msg->body;
	values[1] = msg->headers;
	nulls[1] = (msg->headers == (Datum) 0) ? 'n' : ' ';
	values[2] = IntervalPGetDatum(delay);
	values[3] = msg->group_key;
	nulls[3] = (msg->group_key == (Datum) 0) ? 'n' : ' ';
	values[4] = msg->idempotency_key;
	nulls[4] = (msg->idempotency_key == (Datum) 0) ? 'n' : ' ';
	values[5] = Int32GetDatum(priority);
	id = (msg->id != 0) ? msg->id : queue_next_id(entry);
	values[6] = Int64GetDatum(id);

	queue_spi_connect();
	queue_spi_exec(queue_plan(entry, QPLAN_SEND), values, nulls, false, 0,
				   SPI_OK_INSERT, "send");
	queue_spi_finish();
	return id;
}

/*
 * queue.send(queue_name, body, headers, delay, idempotency_key, group_key,
 *			  priority, producer, producer_seq) RETURNS bigint
 */
Datum
queue_send(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	Interval   *delay = queue_interval_arg(fcinfo, 3, "delay");
	Interval	no_delay = {0, 0, 0};
	int32		priority = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT32(6);
	bool		has_producer = !PG_ARGISNULL(7);
	QueueEntry *entry;
	NewMessage	msg;
	int64		id;
	int			handle;
	TimestampTz expires = ttl_arg(fcinfo, 9);

	memset(&msg, 0, sizeof(msg));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("body must not be NULL")));
	msg.body = PG_GETARG_DATUM(1);
	queue_check_body(msg.body, "body");
	if (!PG_ARGISNULL(2))
	{
		msg.headers = PG_GETARG_DATUM(2);
		queue_check_headers(msg.headers, "headers");
	}
	if (!PG_ARGISNULL(4))
		msg.idempotency_key = PG_GETARG_DATUM(4);
	if (!PG_ARGISNULL(5))
		msg.group_key = PG_GETARG_DATUM(5);
	if (PG_ARGISNULL(7) != PG_ARGISNULL(8))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("producer and producer_seq must be given together")));
	if (!delay)
		delay = &no_delay;

	entry = queue_lookup_for(name, QPRIV_SEND, true);
	if (expires != 0)
	{
		msg.headers = with_expiry(entry, msg.headers, expires);
		queue_check_body(msg.headers, "headers");
	}
	if (entry->group_limit > 0 && msg.group_key != (Datum) 0)
		lock_group(entry, group_hash(msg.group_key));
	/* reads do not move past the id until the row is in the index */
	handle = queue_sending_begin(entry->relid);
	if (msg.idempotency_key != (Datum) 0 || has_producer)
	{
		claim_id(entry, &msg,
				 has_producer ? PG_GETARG_DATUM(7) : (Datum) 0,
				 has_producer ? PG_GETARG_DATUM(8) : (Datum) 0,
				 has_producer);
		if (msg.duplicate)
		{
			queue_sending_end(handle);
			PG_RETURN_INT64(msg.id);
		}
	}
	if (!send_direct(entry, &msg, 1, delay, priority, &id))
		id = send_sql(entry, &msg, delay, priority);
	queue_sending_end(handle);
	queue_count_sent(entry->relid, 1);
	note_expiry(entry);
	if (expires != 0)
		queue_note_expiry(entry->relid, expires, true);

	PG_RETURN_INT64(id);
}

/*
 * check_jsonb_elements
 *		Check each element of a jsonb array: bodies must be present and
 *		within the size limit, headers NULL or objects.
 */
static void
check_jsonb_elements(ArrayType *arr, bool are_headers, Datum **elems_out,
					 bool **nulls_out)
{
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	int			i;

	deconstruct_array(arr, JSONBOID, -1, false, TYPALIGN_INT,
					  &elems, &elem_nulls, &n);
	*elems_out = elems;
	*nulls_out = elem_nulls;
	for (i = 0; i < n; i++)
	{
		if (elem_nulls[i])
		{
			if (are_headers)
				continue;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("bodies[%d] must not be NULL", i + 1)));
		}
		if (are_headers)
			queue_check_headers(elems[i], "headers element");
		else
			queue_check_body(elems[i], "bodies element");
	}
}

/*
 * text_elements
 *		Store the elements of a text[] argument (NULL: none) into the field
 *		at 'offset' of each message.
 */
static void
text_elements(FunctionCallInfo fcinfo, int argno, NewMessage *msgs, size_t offset)
{
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n;
	int			i;

	if (PG_ARGISNULL(argno))
		return;
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elem_nulls, &n);
	for (i = 0; i < n; i++)
		if (!elem_nulls[i])
			*(Datum *) ((char *) &msgs[i] + offset) = elems[i];
}

/*
 * queue.send_batch(queue_name, bodies, headers, delay, idempotency_keys,
 *					group_keys, priority) RETURNS SETOF bigint
 *		The ids come back in input order.
 */
Datum
queue_send_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = queue_name_arg(fcinfo, 0);
	Interval   *delay = queue_interval_arg(fcinfo, 3, "delay");
	Interval	no_delay = {0, 0, 0};
	int			nbodies;
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	static const struct
	{
		int			argno;
		const char *argname;
	}			parallel[] = {{2, "headers"}, {4, "idempotency_keys"}, {5, "group_keys"}};
	int			i;
	QueueEntry *entry;
	int			nsent;
	Datum	   *bodies;
	bool	   *body_nulls;
	Datum	   *headers = NULL;
	bool	   *header_nulls = NULL;
	NewMessage *msgs;
	int64	   *ids;
	bool		has_keys = !PG_ARGISNULL(4);
	int32		priority = PG_ARGISNULL(6) ? 0 : PG_GETARG_INT32(6);
	int			handle;
	TimestampTz expires = ttl_arg(fcinfo, 7);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	nbodies = queue_batch_arg(fcinfo, 1, "bodies");
	for (i = 0; i < lengthof(parallel); i++)
	{
		int			n = queue_array_length_arg(fcinfo, parallel[i].argno,
											   parallel[i].argname);

		if (n >= 0 && n != nbodies)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s and bodies differ in length (%d and %d)",
							parallel[i].argname, n, nbodies),
					 errhint("Arrays given to send_batch must have one element per body.")));
	}
	check_jsonb_elements(PG_GETARG_ARRAYTYPE_P(1), false, &bodies, &body_nulls);
	if (!PG_ARGISNULL(2))
		check_jsonb_elements(PG_GETARG_ARRAYTYPE_P(2), true, &headers, &header_nulls);

	/* parameters: $1 bodies, $2 headers, $3 delay, $4 group_keys, $5 keys, $6 priority */
	values[0] = PG_GETARG_DATUM(1);
	values[1] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[1] = PG_ARGISNULL(2) ? 'n' : ' ';
	values[3] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	nulls[3] = PG_ARGISNULL(5) ? 'n' : ' ';
	values[4] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	nulls[4] = PG_ARGISNULL(4) ? 'n' : ' ';
	if (!delay)
		delay = &no_delay;
	values[2] = IntervalPGetDatum(delay);
	values[5] = Int32GetDatum(priority);

	entry = queue_lookup_for(name, QPRIV_SEND, true);
	if (nbodies == 0)
		return (Datum) 0;

	/* the direct path: the rows go in together (insert_messages) */
	msgs = palloc0(sizeof(NewMessage) * nbodies);
	ids = palloc0(sizeof(int64) * nbodies);
	for (i = 0; i < nbodies; i++)
	{
		msgs[i].body = bodies[i];
		if (headers && !header_nulls[i])
			msgs[i].headers = headers[i];
	}
	/* a ttl: each message's own expiry in its headers, for both paths */
	if (expires != 0)
	{
		Datum	   *with = palloc(sizeof(Datum) * nbodies);

		for (i = 0; i < nbodies; i++)
		{
			msgs[i].headers = with_expiry(entry, msgs[i].headers, expires);
			queue_check_body(msgs[i].headers, "headers element");
			with[i] = msgs[i].headers;
		}
		values[1] = PointerGetDatum(construct_array(with, nbodies, JSONBOID, -1, false,
													TYPALIGN_INT));
		nulls[1] = ' ';
	}
	text_elements(fcinfo, 5, msgs, offsetof(NewMessage, group_key));
	text_elements(fcinfo, 4, msgs, offsetof(NewMessage, idempotency_key));
	if (entry->group_limit > 0 && !PG_ARGISNULL(5))
		lock_groups(entry, msgs, nbodies);
	/* reads do not move past the ids until the rows are in the index */
	handle = queue_sending_begin(entry->relid);

	/*
	 * With idempotency keys, each message claims its key first, in input
	 * order, so that duplicates within the batch collapse onto the first.
	 */
	nsent = nbodies;
	if (has_keys)
	{
		for (i = 0; i < nbodies; i++)
		{
			/* ids are taken in input order, keyed or not */
			if (msgs[i].idempotency_key != (Datum) 0)
				claim_id(entry, &msgs[i], (Datum) 0, (Datum) 0, false);
			else
				msgs[i].id = queue_next_id(entry);
			if (msgs[i].duplicate)
				nsent--;
		}
	}

	if (send_direct(entry, msgs, nbodies, delay, priority, ids) || has_keys)
	{
		for (i = 0; i < nbodies; i++)
		{
			Datum		id;
			bool		isnull = false;

			/* keyed batches the direct path refused: one statement each */
			if (ids[i] == 0)
				ids[i] = msgs[i].duplicate ? msgs[i].id :
					send_sql(entry, &msgs[i], delay, priority);
			id = Int64GetDatum(ids[i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
		}
	}
	else
	{
		/* one statement for the whole batch, with ids taken in input order */
		Datum	   *id_datums = palloc(sizeof(Datum) * nbodies);

		for (i = 0; i < nbodies; i++)
			id_datums[i] = Int64GetDatum(queue_next_id(entry));
		values[6] = PointerGetDatum(construct_array(id_datums, nbodies, INT8OID,
													sizeof(int64), FLOAT8PASSBYVAL,
													TYPALIGN_DOUBLE));
		queue_spi_connect();
		nsent = queue_spi_exec(queue_plan(entry, QPLAN_SEND_BATCH), values, nulls,
							   false, 0, SPI_OK_INSERT, "send_batch");
		queue_spi_finish();
		for (i = 0; i < nbodies; i++)
		{
			bool		isnull = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id_datums[i], &isnull);
		}
	}
	queue_sending_end(handle);
	queue_count_sent(entry->relid, nsent);
	if (nsent > 0)
		note_expiry(entry);
	if (nsent > 0 && expires != 0)
		queue_note_expiry(entry->relid, expires, true);

	return (Datum) 0;
}
