/*-------------------------------------------------------------------------
 *
 * placement.c
 *		Queues on the nodes of a Citus cluster: the error that names a
 *		queue's node, and the guards that keep Citus from distributing the
 *		extension's tables, moving the shards that place queues, or
 *		crashing on a NULL queue name.
 *
 * queue.citus_distribute (sql/queue.sql) makes queue.placement, a table
 * distributed by queue name that holds no rows, and distributes every
 * function that takes a queue_name by that argument, colocated with it:
 * Citus then sends each call to the node holding the shard the name hashes
 * to, where the queue's tables are ordinary local tables.  What is here:
 *
 * - queue_report_missing: a queue that is not found is first looked up in
 *   the placement (queue._not_here), so that a call on the wrong node says
 *   which node holds the queue instead of "does not exist".
 * - The planner hook: Citus 13.2 routes a call by hashing the constant
 *   value of its distribution argument, and crashes the backend when that
 *   value is NULL (queue.stats() and any call with a NULL queue name).  A
 *   call whose queue name may be NULL gets the WHERE clause
 *   queue._run_here(), which Citus does not route: it runs on this node.
 * - The object access hook: Citus gives every table it distributes, makes
 *   a reference table or adds to its metadata a TRUNCATE trigger
 *   (truncate_trigger_<oid>, of citus_truncate_trigger()), before it
 *   creates any shard.  Creating that trigger
 *   on a table of schema queue other than queue.placement is refused: the
 *   catalog and the queues' tables belong to their node.
 * - queue_placement_check_utility, from the ProcessUtility hook: Citus
 *   creates the shards of a table on their node with CREATE TABLE
 *   <name>_<shardid>.  A shard of queue.placement created after the
 *   distribution is a move, a copy or a split, which would send the calls
 *   of queues to a node without their tables: queue._placement_shard_check
 *   refuses it.
 *
 * The hooks are installed only when Citus is in shared_preload_libraries
 * (it must come first there), so that a server without Citus pays nothing.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_run_here);

/* Citus is in shared_preload_libraries, so the hooks are installed */
static bool queue_citus_loaded = false;

static planner_hook_type prev_planner = NULL;
static object_access_hook_type prev_object_access = NULL;

static PlannedStmt *queue_planner(Query *parse, const char *query_string,
								  int cursorOptions, ParamListInfo boundParams);
static void queue_object_access(ObjectAccessType access, Oid classId,
								Oid objectId, int subId, void *arg);

/*
 * citus_preloaded
 *		Whether shared_preload_libraries names citus.
 */
static bool
citus_preloaded(void)
{
	const char *setting = GetConfigOption("shared_preload_libraries", true, false);
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (setting == NULL)
		return false;
	copy = pstrdup(setting);
	if (!SplitDirectoriesString(copy, ',', &names))
		return false;
	foreach(lc, names)
	{
		const char *name = (const char *) lfirst(lc);
		const char *base = strrchr(name, '/');

		base = base ? base + 1 : name;
		if (strcmp(base, "citus") == 0 || strcmp(base, "citus.so") == 0)
			found = true;
	}
	return found;
}

/*
 * queue_placement_init
 *		Install the planner and object access hooks when Citus is preloaded
 *		(_PG_init, while shared_preload_libraries is being processed).
 */
void
queue_placement_init(void)
{
	if (!citus_preloaded())
		return;
	queue_citus_loaded = true;
	prev_planner = planner_hook;
	planner_hook = queue_planner;
	prev_object_access = object_access_hook;
	object_access_hook = queue_object_access;
}

/*
 * queue_report_missing_as
 *		Raise that the queue (what: "queue" or "dead-letter queue") does not
 *		exist, unless queue.citus_distribute places it on another node: then
 *		queue._not_here raises 55000 naming that node.  Without that
 *		function (the SQL of 0.5.0 or older) just 42704.
 */
void
queue_report_missing_as(const char *name, const char *what)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Oid			fn;

	fn = LookupFuncName(list_make2(makeString("queue"), makeString("_not_here")),
						2, argtypes, true);
	if (OidIsValid(fn))
		OidFunctionCall2(fn, CStringGetTextDatum(name), CStringGetTextDatum(what));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("%s \"%s\" does not exist", what, name)));
}

void
queue_report_missing(const char *name)
{
	queue_report_missing_as(name, "queue");
}

/*
 * queue._run_here() RETURNS boolean
 *		Always true; volatile, so that the planner keeps it (see the
 *		planner hook).
 */
Datum
queue_run_here(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(true);
}

/*
 * delegable_call
 *		The function call Citus would try to route in parse, mirroring its
 *		own test (function_call_delegation.c): a SELECT without WHERE of
 *		either one function in the target list and nothing in FROM, or one
 *		function in FROM (and no function call as the target list); NULL
 *		for any other query.
 */
static FuncExpr *
delegable_call(Query *parse)
{
	FuncExpr   *target = NULL;
	FuncExpr   *from = NULL;
	FromExpr   *jointree = parse->jointree;

	if (parse->commandType != CMD_SELECT || jointree == NULL ||
		jointree->quals != NULL || list_length(jointree->fromlist) > 1)
		return NULL;
	if (list_length(jointree->fromlist) == 1)
	{
		RangeTblRef *ref = linitial(jointree->fromlist);
		RangeTblEntry *rte;
		RangeTblFunction *rtfunc;

		if (!IsA(ref, RangeTblRef))
			return NULL;
		rte = rt_fetch(ref->rtindex, parse->rtable);
		if (rte->rtekind != RTE_FUNCTION || list_length(rte->functions) != 1)
			return NULL;
		rtfunc = linitial(rte->functions);
		if (!IsA(rtfunc->funcexpr, FuncExpr))
			return NULL;
		from = (FuncExpr *) rtfunc->funcexpr;
	}
	if (list_length(parse->targetList) == 1)
	{
		TargetEntry *te = linitial(parse->targetList);

		if (IsA(te->expr, FuncExpr))
			target = (FuncExpr *) te->expr;
	}
	if (target != NULL && from != NULL)
		return NULL;
	return target != NULL ? target : from;
}

/*
 * queue_name_argument
 *		The input argument number of the argument named queue_name of a
 *		function in schema queue, or -1 (another schema, no such argument).
 */
static int
queue_name_argument(Oid funcid)
{
	Oid			nsp = get_namespace_oid("queue", true);
	HeapTuple	tuple;
	Oid		   *types;
	char	  **names;
	char	   *modes;
	int			nargs;
	int			input = 0;
	int			found = -1;
	int			i;

	if (!OidIsValid(nsp))
		return -1;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tuple))
		return -1;
	if (((Form_pg_proc) GETSTRUCT(tuple))->pronamespace != nsp)
	{
		ReleaseSysCache(tuple);
		return -1;
	}
	nargs = get_func_arg_info(tuple, &types, &names, &modes);
	for (i = 0; i < nargs && found < 0; i++)
	{
		char		mode = modes ? modes[i] : PROARGMODE_IN;

		if (mode == PROARGMODE_OUT || mode == PROARGMODE_TABLE)
			continue;
		if (names != NULL && names[i] != NULL && strcmp(names[i], "queue_name") == 0)
			found = input;
		input++;
	}
	ReleaseSysCache(tuple);
	return found;
}

/*
 * surely_not_null
 *		Whether the value Citus will hash for this argument is known and not
 *		NULL: a constant (after folding, as the planner will fold it) or a
 *		bound parameter that is not NULL.  A parameter without a value is not
 *		routed by Citus at all.
 */
static bool
surely_not_null(Node *arg, ParamListInfo boundParams)
{
	if (arg == NULL)
		return false;			/* left to its default, NULL for stats */
	if (IsA(arg, Param) && ((Param *) arg)->paramkind == PARAM_EXTERN)
	{
		Param	   *param = (Param *) arg;
		ParamExternData *value;
		ParamExternData workspace;

		if (boundParams == NULL || param->paramid <= 0 ||
			param->paramid > boundParams->numParams)
			return true;
		value = boundParams->paramFetch
			? boundParams->paramFetch(boundParams, param->paramid, false, &workspace)
			: &boundParams->params[param->paramid - 1];
		return value == NULL || !value->isnull;
	}
	if (!IsA(arg, Const))
		arg = eval_const_expressions(NULL, copyObject(arg));
	return IsA(arg, Const) && !((Const *) arg)->constisnull;
}

/*
 * queue_planner
 *		Keep Citus from routing a call of a queue function whose queue name
 *		may be NULL: add WHERE queue._run_here() (see the file header).
 */
static PlannedStmt *
queue_planner(Query *parse, const char *query_string, int cursorOptions,
			  ParamListInfo boundParams)
{
	FuncExpr   *call = delegable_call(parse);

	if (call != NULL)
	{
		int			position = queue_name_argument(call->funcid);

		if (position >= 0)
		{
			Node	   *arg = NULL;
			ListCell   *lc;
			int			i = 0;

			foreach(lc, call->args)
			{
				Node	   *a = lfirst(lc);

				if (IsA(a, NamedArgExpr))
				{
					if (((NamedArgExpr *) a)->argnumber == position)
						arg = (Node *) ((NamedArgExpr *) a)->arg;
				}
				else if (i == position)
					arg = a;
				i++;
			}
			if (!surely_not_null(arg, boundParams))
			{
				Oid			here = LookupFuncName(list_make2(makeString("queue"),
															 makeString("_run_here")),
												  0, NULL, true);

				if (OidIsValid(here))
					parse->jointree->quals =
						(Node *) makeFuncExpr(here, BOOLOID, NIL, InvalidOid,
											  InvalidOid, COERCE_EXPLICIT_CALL);
			}
		}
	}
	if (prev_planner)
		return prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/*
 * refuse_citus_table
 *		A trigger was just created: when it is Citus's TRUNCATE trigger on a
 *		table of schema queue other than queue.placement, refuse (the table
 *		is about to be distributed, made a reference table or added to
 *		Citus's metadata).  The new row of pg_trigger is read with
 *		SnapshotSelf: it is not visible to the command that made it yet.
 */
static void
refuse_citus_table(Oid trigger)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			relid = InvalidOid;
	Oid			fn = InvalidOid;
	bool		truncate_trigger = false;
	char	   *fname;

	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(trigger));
	scan = systable_beginscan(rel, TriggerOidIndexId, true, SnapshotSelf, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		Form_pg_trigger form = (Form_pg_trigger) GETSTRUCT(tuple);

		relid = form->tgrelid;
		fn = form->tgfoid;
		/* an internal trigger's name ends with _<its oid> */
		truncate_trigger = strncmp(NameStr(form->tgname), "truncate_trigger_", 17) == 0;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!truncate_trigger ||
		get_rel_namespace(relid) != get_namespace_oid("queue", true))
		return;
	fname = get_func_name(fn);
	if (fname == NULL || strcmp(fname, "citus_truncate_trigger") != 0)
		return;
	if (strcmp(get_rel_name(relid), "placement") == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("table queue.%s cannot be distributed or added to Citus's metadata",
					get_rel_name(relid)),
			 errdetail("The tables of extension queue belong to their node: each node keeps its own catalog and its own queues."),
			 errhint("To place queues on the nodes of the cluster, call queue.citus_distribute() on the coordinator.")));
}

static void
queue_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					int subId, void *arg)
{
	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);
	if (access == OAT_POST_CREATE && classId == TriggerRelationId)
		refuse_citus_table(objectId);
}

/*
 * queue_placement_check_utility
 *		Before a CREATE TABLE queue.placement_<shardid> (Citus creating a
 *		shard of queue.placement on this node), ask
 *		queue._placement_shard_check whether that is allowed.
 */
void
queue_placement_check_utility(Node *stmt)
{
	CreateStmt *create;
	const char *name;
	const char *digits;
	Oid			argtypes[1] = {INT8OID};
	Oid			fn;
	int64		shardid;

	if (!queue_citus_loaded || !IsA(stmt, CreateStmt))
		return;
	create = (CreateStmt *) stmt;
	name = create->relation->relname;
	if (create->relation->schemaname == NULL ||
		strcmp(create->relation->schemaname, "queue") != 0 ||
		strncmp(name, "placement_", 10) != 0)
		return;
	digits = name + 10;
	if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits))
		return;
	shardid = pg_strtoint64(digits);
	fn = LookupFuncName(list_make2(makeString("queue"),
								   makeString("_placement_shard_check")),
						1, argtypes, true);
	if (OidIsValid(fn))
		OidFunctionCall1(fn, Int64GetDatum(shardid));
}
