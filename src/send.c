/*-------------------------------------------------------------------------
 *
 * send.c
 *		queue.send and queue.send_batch: producing messages.
 *
 * Both insert into the queue's message table with a prepared statement, in
 * the caller's transaction: the message is invisible to readers until the
 * caller commits and gone if it rolls back (the transactional outbox).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_send);
PG_FUNCTION_INFO_V1(queue_send_batch);

/* One message to insert directly */
typedef struct NewMessage
{
	Datum		body;
	Datum		headers;		/* NULL pointer: none */
	Datum		group_key;		/* likewise */
	Datum		idempotency_key;	/* likewise */
} NewMessage;

/*
 * insert_message
 *		Insert one message into a table opened by direct_open (with its
 *		indexes) and return its id.
 */
static int64
insert_message(QueueEntry *entry, DirectTable *dt, const NewMessage *msg,
			   TimestampTz now, Datum visible_at, Datum priority)
{
	TupleTableSlot *slot = dt->slot;
	int64		id;

	ExecClearTuple(slot);
	/* as the identity column would, without a privilege check of its own */
	id = nextval_internal(entry->seqid, false);
	memset(slot->tts_isnull, 0, MSG_NATTS * sizeof(bool));
	slot->tts_values[MSG_ID] = Int64GetDatum(id);
	slot->tts_values[MSG_BODY] = msg->body;
	slot->tts_values[MSG_HEADERS] = msg->headers;
	slot->tts_isnull[MSG_HEADERS] = (msg->headers == (Datum) 0);
	slot->tts_values[MSG_DELIVERY_COUNT] = Int32GetDatum(0);
	slot->tts_values[MSG_ENQUEUED_AT] = TimestampTzGetDatum(now);
	slot->tts_values[MSG_VISIBLE_AT] = visible_at;
	slot->tts_values[MSG_GROUP_KEY] = msg->group_key;
	slot->tts_isnull[MSG_GROUP_KEY] = (msg->group_key == (Datum) 0);
	slot->tts_values[MSG_IDEMPOTENCY_KEY] = msg->idempotency_key;
	slot->tts_isnull[MSG_IDEMPOTENCY_KEY] = (msg->idempotency_key == (Datum) 0);
	slot->tts_values[MSG_PRIORITY] = priority;
	slot->tts_values[MSG_LEASED] = BoolGetDatum(false);
	ExecStoreVirtualTuple(slot);

	table_tuple_insert(dt->rel, slot, GetCurrentCommandId(true), 0, NULL);
	ExecInsertIndexTuples(dt->rri, slot, dt->estate, false, false, NULL, NIL);
	return id;
}

/*
 * send_direct
 *		Insert messages with the table access method, without planning or
 *		running a statement (see direct.c), putting their ids in ids[].
 *		Returns false, having done nothing, when the SQL path must be used.
 */
static bool
send_direct(QueueEntry *entry, const NewMessage *msgs, int n, Interval *delay,
			int32 priority, int64 *ids)
{
	DirectTable dt;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Datum		visible_at;
	int			i;

	if (!direct_open(entry, ACL_INSERT, true, &dt))
		return false;
	visible_at = DirectFunctionCall2(timestamptz_pl_interval,
									 TimestampTzGetDatum(now), IntervalPGetDatum(delay));
	for (i = 0; i < n; i++)
		ids[i] = insert_message(entry, &dt, &msgs[i], now, visible_at,
								Int32GetDatum(priority));
	direct_close(&dt);
	return true;
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
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	QueueEntry *entry;
	NewMessage	msg;
	bool		isnull;
	int64		id;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("body must not be NULL")));
	values[0] = PG_GETARG_DATUM(1);
	queue_check_body(values[0], "body");

	if (PG_ARGISNULL(2))
	{
		values[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	else
	{
		values[1] = PG_GETARG_DATUM(2);
		queue_check_headers(values[1], "headers");
	}
	values[2] = IntervalPGetDatum(delay ? delay : &no_delay);
	values[3] = PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5);
	nulls[3] = PG_ARGISNULL(5) ? 'n' : ' ';
	values[4] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	nulls[4] = PG_ARGISNULL(4) ? 'n' : ' ';
	values[5] = Int32GetDatum(PG_ARGISNULL(6) ? 0 : PG_GETARG_INT32(6));

	entry = queue_lookup(name);
	msg.body = values[0];
	msg.headers = (nulls[1] == 'n') ? (Datum) 0 : values[1];
	msg.group_key = (nulls[3] == 'n') ? (Datum) 0 : values[3];
	msg.idempotency_key = (nulls[4] == 'n') ? (Datum) 0 : values[4];
	if (!send_direct(entry, &msg, 1, delay ? delay : &no_delay,
					 DatumGetInt32(values[5]), &id))
	{
		queue_spi_connect();
		queue_spi_exec(queue_plan(entry, QPLAN_SEND), values, nulls, false, 1,
					   SPI_OK_INSERT_RETURNING, "send");
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
		queue_spi_finish();
	}
	queue_count_sent(entry->relid, 1);

	PG_RETURN_INT64(id);
}

/*
 * array_length_arg
 *		Number of elements of a one-dimensional array argument; -1 when the
 *		argument is NULL.
 */
static int
array_length_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	ArrayType  *arr;

	if (PG_ARGISNULL(argno))
		return -1;
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", argname)));
	return ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
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
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
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

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bodies must not be NULL")));
	nbodies = array_length_arg(fcinfo, 1, "bodies");
	if (nbodies > queue_max_batch)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bodies has %d elements, more than queue.max_batch (%d)",
						nbodies, queue_max_batch)));
	for (i = 0; i < lengthof(parallel); i++)
	{
		int			n = array_length_arg(fcinfo, parallel[i].argno, parallel[i].argname);

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
	values[2] = IntervalPGetDatum(delay ? delay : &no_delay);
	values[5] = Int32GetDatum(PG_ARGISNULL(6) ? 0 : PG_GETARG_INT32(6));

	entry = queue_lookup(name);
	if (nbodies == 0)
		return (Datum) 0;

	/* the direct path, one insert per message */
	msgs = palloc0(sizeof(NewMessage) * nbodies);
	ids = palloc(sizeof(int64) * nbodies);
	for (i = 0; i < nbodies; i++)
	{
		msgs[i].body = bodies[i];
		if (headers && !header_nulls[i])
			msgs[i].headers = headers[i];
	}
	text_elements(fcinfo, 5, msgs, offsetof(NewMessage, group_key));
	text_elements(fcinfo, 4, msgs, offsetof(NewMessage, idempotency_key));
	if (send_direct(entry, msgs, nbodies, delay ? delay : &no_delay,
					DatumGetInt32(values[5]), ids))
	{
		for (i = 0; i < nbodies; i++)
		{
			Datum		id = Int64GetDatum(ids[i]);
			bool		isnull = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
		}
		nsent = nbodies;
	}
	else
	{
		queue_spi_connect();
		nsent = queue_spi_exec(queue_plan(entry, QPLAN_SEND_BATCH), values, nulls,
							   false, 0, SPI_OK_INSERT_RETURNING, "send_batch");
		for (i = 0; i < nsent; i++)
		{
			bool		isnull;
			Datum		id = SPI_getbinval(SPI_tuptable->vals[i],
										   SPI_tuptable->tupdesc, 1, &isnull);

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
		}
		queue_spi_finish();
	}
	queue_count_sent(entry->relid, nsent);

	return (Datum) 0;
}
