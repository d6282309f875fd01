/*-------------------------------------------------------------------------
 *
 * acl.c
 *		Who may do what to a queue.
 *
 * A queue's privileges are the privileges on its tables, so that the
 * functions and the tables can never disagree, and pg_dump keeps them:
 *
 *	send	 INSERT on q_ (and what idempotency keys and producer sequence
 *			 numbers need on k_ and p_)
 *	consume  SELECT, UPDATE, DELETE on q_ (and SELECT, INSERT on the archive
 *			 and the dead letters, SELECT on p_ for producer_gaps)
 *	manage	 everything but TRIGGER and REFERENCES on all five tables
 *
 * The function-level checks test one distinguishing bit each: INSERT on q_
 * for send, UPDATE for consume, TRUNCATE (which only manage grants) for
 * manage.  queue.grant and queue.revoke (sql/queue.sql) grant and revoke
 * the table privileges; queue.grants records what was granted, so that
 * revoking one privilege leaves the others a role holds.
 *
 * The queue's tables belong to the extension's owner.  Managing a queue
 * (create, alter, drop, purge, redrive, bind, unbind, grant, revoke) needs
 * DDL on them or writes to the catalog tables, which the manager may not
 * do itself.  The public functions are C: they check the caller's privilege
 * first, as the caller, then run the SQL implementation (queue._<op>_impl,
 * which PUBLIC may not execute) as the extension's owner, in a security-
 * restricted operation, the way PostgreSQL runs maintenance commands as a
 * table's owner.  A SECURITY DEFINER function could not do the check:
 * inside it, the caller's identity is gone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_check_access_sql);
PG_FUNCTION_INFO_V1(queue_create);
PG_FUNCTION_INFO_V1(queue_manage);

static const char *const privilege_names[] = {"send", "consume", "manage"};
static const AclMode privilege_bits[] = {ACL_INSERT, ACL_UPDATE, ACL_TRUNCATE};

/*
 * queue_namespace
 *		The OID of schema queue.
 */
static Oid
queue_namespace(void)
{
	return get_namespace_oid("queue", false);
}

/*
 * queue_table_oid
 *		The OID of queue.q_<name>, or InvalidOid when there is no such queue.
 */
static Oid
queue_table_oid(const char *name)
{
	char		relname[NAMEDATALEN];

	Oid			relid;

	snprintf(relname, sizeof(relname), "q_%s", name);
	relid = get_relname_relid(relname, queue_namespace());
	/* only a table: never an index or sequence of an older naming */
	if (OidIsValid(relid) && get_rel_relkind(relid) != RELKIND_RELATION)
		return InvalidOid;
	return relid;
}

static void
report_missing(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("queue \"%s\" does not exist", name)));
}

/*
 * queue_require
 *		Raise 42501 naming the queue unless the current user holds priv on
 *		it.  relid is the queue's q_ table.
 */
void
queue_require(Oid relid, const char *name, QueuePrivilege priv)
{
	bool		missing = false;
	AclResult	result;

	result = pg_class_aclcheck_ext(relid, GetUserId(), privilege_bits[priv],
								   &missing);
	if (missing)
		report_missing(name);
	if (result != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for queue \"%s\"", name),
				 errdetail("This needs the %s privilege on the queue.",
						   privilege_names[priv]),
				 errhint("A manager of the queue grants it with queue.grant('%s', role, '%s').",
						 name, privilege_names[priv])));
}

static QueuePrivilege
privilege_from_text(const char *priv)
{
	int			i;

	for (i = 0; i < lengthof(privilege_names); i++)
		if (strcmp(priv, privilege_names[i]) == 0)
			return (QueuePrivilege) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown queue privilege \"%s\"", priv),
			 errhint("The privileges are send, consume and manage.")));
	return QPRIV_SEND;			/* keep the compiler quiet */
}

/*
 * queue._check_access(queue_name text, privilege text) RETURNS void
 *
 * For the SQL functions that run as their caller: 22023 for a bad name,
 * 42704 for a missing queue, 42501 without the privilege.  It only checks,
 * so anyone may call it.
 */
Datum
queue_check_access_sql(PG_FUNCTION_ARGS)
{
	char	   *name = queue_name_arg(fcinfo, 0);
	QueuePrivilege priv;
	Oid			relid;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("privilege must not be NULL")));
	priv = privilege_from_text(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	relid = queue_table_oid(name);
	if (!OidIsValid(relid))
		report_missing(name);
	queue_require(relid, name, priv);
	PG_RETURN_VOID();
}

/*
 * extension_owner
 *		The role that owns the extension (and every queue's tables).
 */
static Oid
extension_owner(void)
{
	Oid			extoid = get_extension_oid("queue", false);
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			owner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "could not find extension queue");
	owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * call_as_owner
 *		Call queue.<impl> with the caller's arguments (and, if extra_type is
 *		valid, one more), as the extension's owner.
 *
 * The implementation is found by name and the caller's argument types, so
 * a function of the same name elsewhere, or one planted with other types,
 * is never called.  The switch of user is undone by transaction or
 * subtransaction abort if the call fails, as for SECURITY DEFINER.
 */
static Datum
call_as_owner(FunctionCallInfo fcinfo, const char *impl, Oid extra_type,
			  Datum extra)
{
	FmgrInfo   *flinfo = (FmgrInfo *) fcinfo->flinfo->fn_extra;
	LOCAL_FCINFO(call, FUNC_MAX_ARGS);
	Oid			save_userid;
	int			save_sec_context;
	int			nargs = fcinfo->nargs;
	Datum		result;
	int			i;

	if (flinfo == NULL)
	{
		Oid		   *argtypes;
		Oid			alltypes[FUNC_MAX_ARGS];
		int			fnargs;
		Oid			implid;

		get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &fnargs);
		Assert(fnargs == nargs);
		memcpy(alltypes, argtypes, sizeof(Oid) * fnargs);
		if (OidIsValid(extra_type))
			alltypes[fnargs++] = extra_type;
		implid = LookupFuncName(list_make2(makeString("queue"), makeString(pstrdup(impl))),
								fnargs, alltypes, false);
		flinfo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		fmgr_info_cxt(implid, flinfo, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = flinfo;
	}

	InitFunctionCallInfoData(*call, flinfo, flinfo->fn_nargs,
							 fcinfo->fncollation, NULL, NULL);
	for (i = 0; i < nargs; i++)
		call->args[i] = fcinfo->args[i];
	if (OidIsValid(extra_type))
	{
		call->args[nargs].value = extra;
		call->args[nargs].isnull = false;
	}

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(extension_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	result = FunctionCallInvoke(call);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	fcinfo->isnull = call->isnull;
	return result;
}

/*
 * queue.create(queue_name, ...options) RETURNS void
 *
 * Needs CREATE on schema queue.  The tables are created by the extension's
 * owner; a creator who is someone else is granted manage on the new queue.
 */
Datum
queue_create(PG_FUNCTION_ARGS)
{
	Oid			caller = GetUserId();
	AclResult	result;

	(void) queue_name_arg(fcinfo, 0);
	result = pg_namespace_aclcheck(queue_namespace(), caller, ACL_CREATE);
	if (result != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for schema queue"),
				 errdetail("Creating a queue needs the CREATE privilege on schema queue."),
				 errhint("The owner of the extension grants it with GRANT CREATE ON SCHEMA queue TO role.")));
	return call_as_owner(fcinfo, "_create_impl", OIDOID, ObjectIdGetDatum(caller));
}

/*
 * The managing functions: alter, drop, purge, redrive, grant, revoke (the
 * queue is their first argument), bind and unbind (their second).
 */
typedef struct ManagedFunction
{
	const char *name;
	const char *impl;
	int			queue_arg;
} ManagedFunction;

static const ManagedFunction managed_functions[] = {
	{"alter", "_alter_impl", 0},
	{"drop", "_drop_impl", 0},
	{"purge", "_purge_impl", 0},
	{"redrive", "_redrive_impl", 0},
	{"grant", "_grant_impl", 0},
	{"revoke", "_revoke_impl", 0},
	{"bind", "_bind_impl", 1},
	{"unbind", "_unbind_impl", 1},
};

/*
 * queue_manage
 *		The C entry of every managing function: which one it is comes from
 *		the name of the function called.  Checks that the queue exists and
 *		that the caller manages it, then runs queue._<name>_impl as the
 *		extension's owner.
 */
Datum
queue_manage(PG_FUNCTION_ARGS)
{
	char	   *fname = get_func_name(fcinfo->flinfo->fn_oid);
	const ManagedFunction *fn = NULL;
	char	   *name;
	Oid			relid;
	int			i;

	for (i = 0; i < lengthof(managed_functions); i++)
		if (fname != NULL && strcmp(fname, managed_functions[i].name) == 0)
			fn = &managed_functions[i];
	if (fn == NULL)
		elog(ERROR, "queue_manage called as unknown function \"%s\"",
			 fname ? fname : "?");

	name = queue_name_arg(fcinfo, fn->queue_arg);
	relid = queue_table_oid(name);
	if (!OidIsValid(relid))
	{
		/* drop(if_exists => true) of a missing queue */
		if (strcmp(fn->name, "drop") == 0 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1))
			PG_RETURN_BOOL(false);
		report_missing(name);
	}
	queue_require(relid, name, QPRIV_MANAGE);
	return call_as_owner(fcinfo, fn->impl, InvalidOid, (Datum) 0);
}
