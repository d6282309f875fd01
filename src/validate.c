/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Checks of user input: queue names, quantities, durations, bodies.
 *
 * Every check raises SQLSTATE 22023 (invalid_parameter_value) with a
 * message naming the argument and the rule, before anything is written.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_check_name_sql);
PG_FUNCTION_INFO_V1(queue_valid_name_sql);
PG_FUNCTION_INFO_V1(queue_max_span_sql);

/*
 * name_ok
 *		The name rule ^[a-z_][a-z0-9_]{0,47}$ (47 being QUEUE_NAME_MAXLEN
 *		- 1) of queue and topic names: the one place it is written.
 *
 * The rule keeps every derived table name (catalog.c) within NAMEDATALEN
 * and free of anything that would need quoting.
 */
static bool
name_ok(const char *name)
{
	size_t		len = strlen(name);
	const char *p;

	if (len == 0 || len > QUEUE_NAME_MAXLEN)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (p = name + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/*
 * queue_check_name
 *		Enforce the name rule on a queue or topic name.
 */
void
queue_check_name(const char *name, const char *what)
{
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", what),
				 errhint("Names match ^[a-z_][a-z0-9_]{0,%d}$.", QUEUE_NAME_MAXLEN - 1)));

	if (!name_ok(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", what, name),
				 errdetail("Names must match ^[a-z_][a-z0-9_]{0,%d}$: a lower-case letter or underscore, then up to %d lower-case letters, digits or underscores.",
						   QUEUE_NAME_MAXLEN - 1, QUEUE_NAME_MAXLEN - 1)));
}

/*
 * queue_name_arg
 *		Fetch and validate the queue name in argument argno.
 */
char *
queue_name_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = NULL;

	if (!PG_ARGISNULL(argno))
		name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	queue_check_name(name, "queue name");
	return name;
}

/*
 * queue._check_name(name text, what text) -- the same rule for PL/pgSQL.
 */
Datum
queue_check_name_sql(PG_FUNCTION_ARGS)
{
	char	   *what = PG_ARGISNULL(1) ? "queue name" :
		text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *name = PG_ARGISNULL(0) ? NULL :
		text_to_cstring(PG_GETARG_TEXT_PP(0));

	queue_check_name(name, what);
	PG_RETURN_VOID();
}

/*
 * queue._valid_name(name text) RETURNS boolean -- the rule, for the CHECK
 * constraints of queue.registry and queue.bindings.
 */
Datum
queue_valid_name_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(name_ok(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * queue._max_span() RETURNS interval
 *		QUEUE_MAX_SPAN_YEARS, for the checks of the options in SQL.
 */
Datum
queue_max_span_sql(PG_FUNCTION_ARGS)
{
	Interval   *span = palloc0(sizeof(Interval));

	span->month = QUEUE_MAX_SPAN_YEARS * MONTHS_PER_YEAR;
	PG_RETURN_INTERVAL_P(span);
}

/*
 * queue_array_length_arg
 *		The number of elements of a one-dimensional array argument (22023
 *		for more dimensions); -1 when the argument is NULL.
 */
int
queue_array_length_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
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
 * queue_batch_arg
 *		The number of elements of the array argument of a batch (send_batch's
 *		bodies, ack's ids): not NULL, one-dimensional, at most
 *		queue.max_batch elements (22023 otherwise).
 */
int
queue_batch_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	int			n;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	n = queue_array_length_arg(fcinfo, argno, argname);
	if (n > queue_max_batch)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has %d elements, more than queue.max_batch (%d)",
						argname, n, queue_max_batch)));
	return n;
}

/*
 * queue_quantity_arg
 *		Fetch a quantity argument, NULL meaning dflt; it must be in
 *		1..queue.max_batch.
 */
int32
queue_quantity_arg(FunctionCallInfo fcinfo, int argno, int32 dflt)
{
	int32		quantity = PG_ARGISNULL(argno) ? dflt : PG_GETARG_INT32(argno);

	if (quantity < 1 || quantity > queue_max_batch)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantity must be between 1 and %d, not %d",
						queue_max_batch, quantity),
				 errhint("The upper limit is the setting queue.max_batch.")));
	return quantity;
}

/*
 * interval_is_negative
 *		True when the interval is below zero as a whole (months count as 30
 *		days, as interval comparison does).
 */
static bool
interval_is_negative(const Interval *span)
{
	Interval	zero = {0, 0, 0};

	return DatumGetInt32(DirectFunctionCall2(interval_cmp,
											 IntervalPGetDatum(span),
											 IntervalPGetDatum(&zero))) < 0;
}

/*
 * queue_interval_arg
 *		Fetch an interval argument that must not be negative; NULL when the
 *		argument is NULL.
 */
Interval *
queue_interval_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Interval   *span;

	if (PG_ARGISNULL(argno))
		return NULL;
	span = PG_GETARG_INTERVAL_P(argno);
	if (interval_is_negative(span))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", argname)));
	return span;
}

/*
 * queue_check_body
 *		A body must be present and within queue.max_message_size.
 */
void
queue_check_body(Datum body, const char *argname)
{
	Size		size = toast_raw_datum_size(body) - VARHDRSZ;

	if (size > (Size) queue_max_message_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is %zu bytes, more than queue.max_message_size (%d bytes)",
						argname, size, queue_max_message_size)));
}

/*
 * queue_check_headers
 *		Headers, when given, must be a JSON object; they count against the
 *		same size limit as the body.
 */
void
queue_check_headers(Datum headers, const char *argname)
{
	Jsonb	   *jb = DatumGetJsonbP(headers);

	TimestampTz at;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", argname)));
	queue_check_body(headers, argname);
	/* a message's own expiry, when given in the headers, must be a time */
	(void) queue_header_expiry(headers, &at);
}

/*
 * queue_header_expiry
 *		Whether headers (a JSON object) carry the message's own expiry
 *		(QUEUE_EXPIRES_HEADER, set by send's ttl), and when it is: 22023
 *		when it is not a string holding a time with its zone.
 */
bool
queue_header_expiry(Datum headers, TimestampTz *at)
{
	Jsonb	   *jb = DatumGetJsonbP(headers);
	JsonbValue	key;
	JsonbValue *v;
	char	   *text;
	MemoryContext cxt = CurrentMemoryContext;

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		return false;
	key.type = jbvString;
	key.val.string.val = QUEUE_EXPIRES_HEADER;
	key.val.string.len = strlen(QUEUE_EXPIRES_HEADER);
	v = findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &key);
	if (v == NULL)
		return false;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header \"%s\" must be a time, as a string", QUEUE_EXPIRES_HEADER)));
	text = pnstrdup(v->val.string.val, v->val.string.len);
	PG_TRY();
	{
		*at = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
													  CStringGetDatum(text),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header \"%s\" must be a time, not \"%s\"",
						QUEUE_EXPIRES_HEADER, text)));
	}
	PG_END_TRY();
	return true;
}
