/*-------------------------------------------------------------------------
 *
 * acl.c
 *		Who may do what to a queue.
 *
 * A queue's privileges are rows of queue.grants (queue, grantee regrole,
 * privilege), not table privileges: nobody but the extension's owner may
 * write to a queue's tables or to the catalog, so that everything a
 * producer, consumer or manager does goes through the functions, which
 * keep the tables' invariants.  The privileges:
 *
 *	send	 send, send_batch, publish
 *	consume  read, pop, ack, nack, extend, dead_letters, stats,
 *			 producer_gaps
 *	manage	 alter, drop, purge, redrive, bind, unbind, grant, revoke, and
 *			 send and consume
 *
 * A role holds a privilege on a queue when it has the privileges of a
 * grantee of a row (role membership counts, as for table privileges), or
 * of the extension's owner, or is a superuser.  Every function checks it
 * first, in C (queue_require), as the caller; the check is cached in the
 * queue's entry of the plan cache, for one user, until an invalidation:
 * queue.grant and queue.revoke invalidate the queue's entry, a change of
 * its anchor (below) its cached privileges, a change of roles or role
 * membership those of every entry.
 *
 * The work is then done with the extension's owner's identity: SPI
 * statements run as the owner (spi_util.c), the direct heap path checks
 * nothing, and the managing functions run their SQL implementation
 * (queue._<op>_impl, which PUBLIC may not execute) as the owner, in a
 * security-restricted operation, the way PostgreSQL runs maintenance
 * commands as a table's owner.  A SECURITY DEFINER function could not do
 * the check: inside it, the caller's identity is gone.
 *
 * Reading stays a table privilege, for ad-hoc inspection and for the SQL
 * functions that read as their caller: consume grants SELECT on q_, dl_,
 * a_ and p_, manage SELECT on all five tables; send grants none.  SELECT
 * cannot lock a row (that takes UPDATE), so it opens no write.
 *
 * The anchor: a row of queue.grants counts only while its grantee holds
 * SELECT on the queue's id sequence, which queue.grant gives and
 * queue.revoke takes back with the role's last privilege on the queue
 * (reading the sequence tells the last id taken, nothing more).  That
 * privilege is a shared dependency, so DROP ROLE refuses a role that still
 * holds a queue privilege (as it refuses one with table privileges), and
 * DROP OWNED takes the anchor away, which ends the role's queue privileges
 * in the database at once (and an event trigger on DROP OWNED deletes its
 * rows, so that no row is left to name the role once it is dropped).  It
 * is per queue, so grants on two queues never update one catalog row at
 * once (which fails), and it goes with the queue.  pg_dump keeps both:
 * the rows through pg_extension_config_dump, the anchor with the
 * sequence.
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
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_check_access_sql);
PG_FUNCTION_INFO_V1(queue_has_privilege_role);
PG_FUNCTION_INFO_V1(queue_has_privilege_current);
PG_FUNCTION_INFO_V1(queue_may_see);
PG_FUNCTION_INFO_V1(queue_bound_queues);
PG_FUNCTION_INFO_V1(queue_on_drop_owned);
PG_FUNCTION_INFO_V1(queue_create);
PG_FUNCTION_INFO_V1(queue_manage);
PG_FUNCTION_INFO_V1(queue_alter);
PG_FUNCTION_INFO_V1(queue_drop);
PG_FUNCTION_INFO_V1(queue_purge);
PG_FUNCTION_INFO_V1(queue_pause);
PG_FUNCTION_INFO_V1(queue_resume);
PG_FUNCTION_INFO_V1(queue_redrive);
PG_FUNCTION_INFO_V1(queue_grant);
PG_FUNCTION_INFO_V1(queue_revoke);
PG_FUNCTION_INFO_V1(queue_bind);
PG_FUNCTION_INFO_V1(queue_unbind);

static const char *const privilege_names[] = {"send", "consume", "manage"};
#define PRIV_BIT(p)		(1 << (p))
#define PRIV_ALL		(PRIV_BIT(QPRIV_SEND) | PRIV_BIT(QPRIV_CONSUME) | PRIV_BIT(QPRIV_MANAGE))

/*
 * What the cached privileges of every queue entry were computed against:
 * bumped by a change of roles or memberships (syscache callbacks) and of
 * the extension's owner (relcache callback: REASSIGN OWNED changes the
 * owner of queue.registry too).
 */
static uint64 acl_generation = 1;
static Oid	owner_cache = InvalidOid;	/* the extension's owner */
static bool legacy_cache;		/* its SQL is of a version with table privileges */
static Oid	registry_cache = InvalidOid;	/* queue.registry */
static SPIPlanPtr grants_plan = NULL;

static void
acl_syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	acl_generation++;
}

static void
acl_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == registry_cache)
	{
		acl_generation++;
		owner_cache = InvalidOid;
		registry_cache = InvalidOid;
	}
}

/*
 * queue_acl_init
 *		Register the invalidation callbacks (_PG_init).
 */
void
queue_acl_init(void)
{
	CacheRegisterSyscacheCallback(AUTHOID, acl_syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, acl_syscache_callback, (Datum) 0);
	CacheRegisterRelcacheCallback(acl_relcache_callback, (Datum) 0);
}

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
 * queue_extension_owner
 *		The role that owns the extension (and every queue's tables), whose
 *		identity the functions do their work with.  Cached; REASSIGN OWNED
 *		changes the owner of queue.registry too, which invalidates it.
 */
Oid
queue_extension_owner(void)
{
	Oid			extoid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (OidIsValid(owner_cache))
		return owner_cache;
	extoid = get_extension_oid("queue", false);
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "could not find extension queue");
	owner_cache = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	{
		bool		isnull;
		Datum		version = heap_getattr(tuple, Anum_pg_extension_extversion,
										   RelationGetDescr(rel), &isnull);
		char	   *v = isnull ? "" : TextDatumGetCString(version);

		/*
		 * Between installing this library and ALTER EXTENSION UPDATE, the
		 * SQL of 0.4.0 or before is still there, with its privileges on
		 * the tables: check those meanwhile.
		 */
		legacy_cache = (strcmp(v, "0.1.0") == 0 || strcmp(v, "0.2.0") == 0 ||
						strcmp(v, "0.3.0") == 0 || strcmp(v, "0.4.0") == 0);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	/* so that the callback knows the relation whose change resets it */
	registry_cache = get_relname_relid("registry", queue_namespace());
	return owner_cache;
}

/*
 * anchor_held
 *		Whether role itself holds SELECT on the queue's id sequence (see the
 *		top of the file): without it, its rows in queue.grants count for
 *		nothing.
 */
static bool
anchor_held(Oid role, Oid seqid)
{
	HeapTuple	tuple;
	Datum		aclDatum;
	bool		isnull;
	bool		held = false;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(seqid));
	if (!HeapTupleIsValid(tuple))
		return false;
	aclDatum = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relacl, &isnull);
	if (!isnull)
	{
		Acl		   *acl = DatumGetAclP(aclDatum);
		AclItem    *items = ACL_DAT(acl);
		int			i;

		for (i = 0; i < ACL_NUM(acl); i++)
			if (items[i].ai_grantee == role &&
				(ACLITEM_GET_PRIVS(items[i]) & ACL_SELECT) != 0)
				held = true;
		if ((Pointer) acl != DatumGetPointer(aclDatum))
			pfree(acl);
	}
	ReleaseSysCache(tuple);
	return held;
}

/*
 * legacy_privileges_of
 *		The privileges role holds on a queue while the extension's SQL is
 *		of 0.4.0 or before: the table privileges on q_ that only each one
 *		granted (INSERT send, UPDATE consume, TRUNCATE manage).
 */
static int
legacy_privileges_of(const char *name, Oid role)
{
	static const AclMode bits[] = {ACL_INSERT, ACL_UPDATE, ACL_TRUNCATE};
	Oid			relid = queue_table_oid(name);
	int			mask = 0;
	int			j;

	if (!OidIsValid(relid))
		return 0;
	for (j = 0; j < lengthof(bits); j++)
		if (pg_class_aclcheck(relid, role, bits[j]) == ACLCHECK_OK)
			mask |= PRIV_BIT(j);
	return mask;
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
 * queue_privileges_of
 *		The privileges role holds on a queue, as a mask of PRIV_BIT: all of
 *		them for a superuser and for whoever has the privileges of the
 *		extension's owner; else those of the rows of queue.grants whose
 *		grantee role has the privileges of and which are anchored on the
 *		queue's sequence seqid; manage implies the others.
 */
static int
queue_privileges_of(const char *name, Oid seqid, Oid role)
{
	Datum		arg = CStringGetTextDatum(name);
	int			mask = 0;
	uint64		i;

	if (superuser_arg(role) || has_privs_of_role(role, queue_extension_owner()))
		return PRIV_ALL;
	if (legacy_cache)
		return legacy_privileges_of(name, role);

	queue_spi_connect();
	if (grants_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT g.grantee::pg_catalog.oid, g.privilege"
						   "  FROM queue.grants g"
						   " WHERE g.queue_name OPERATOR(pg_catalog.=) $1",
						   1, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare the lookup of queue.grants: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		grants_plan = plan;
	}
	queue_spi_exec(grants_plan, &arg, NULL, true, 0, SPI_OK_SELECT,
				   "lookup of queue.grants");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			grantee = DatumGetObjectId(SPI_getbinval(tuple, desc, 1, &isnull));
		char	   *priv = SPI_getvalue(tuple, desc, 2);

		/* (the table's CHECK allows only the three names) */
		if (has_privs_of_role(role, grantee) && anchor_held(grantee, seqid))
			mask |= PRIV_BIT(privilege_from_text(priv));
	}
	queue_spi_finish();
	if (mask & PRIV_BIT(QPRIV_MANAGE))
		mask = PRIV_ALL;
	return mask;
}

/*
 * queue_has_privilege
 *		Whether the current user holds priv on the queue of entry, from
 *		the entry's cache when it was computed for this user since the last
 *		invalidation.
 */
static bool
queue_has_privilege(QueueEntry *entry, QueuePrivilege priv)
{
	Oid			user = GetUserId();

	if (entry->acl_user != user || entry->acl_generation != acl_generation)
	{
		uint64		generation = acl_generation;

		entry->acl_user = user;
		entry->acl_generation = generation;
		entry->acl_mask = queue_privileges_of(entry->name, entry->seqid, user);
		/* an invalidation meanwhile: use what we found, look again next time */
		if (entry->acl_generation != generation || acl_generation != generation)
			entry->acl_generation = 0;
	}
	return (entry->acl_mask & PRIV_BIT(priv)) != 0;
}

/*
 * queue_require
 *		Raise 42501 naming the queue unless the current user holds priv on
 *		it.
 */
void
queue_require(QueueEntry *entry, QueuePrivilege priv)
{
	if (!queue_has_privilege(entry, priv))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for queue \"%s\"", entry->name),
				 errdetail("This needs the %s privilege on the queue.",
						   privilege_names[priv]),
				 errhint("A manager of the queue grants it with queue.grant('%s', role, '%s').",
						 entry->name, privilege_names[priv])));
}

/*
 * queue_require_relid
 *		queue_require for a queue known by its message table.
 */
void
queue_require_relid(Oid relid, QueuePrivilege priv)
{
	queue_require(queue_lookup(queue_relid_name(relid)), priv);
}

/*
 * queue_relid_name
 *		The name of the queue whose message table is relid (42704 for a
 *		relation that is not one).
 */
const char *
queue_relid_name(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	if (relname == NULL || get_rel_namespace(relid) != queue_namespace() ||
		strncmp(relname, "q_", 2) != 0 || queue_table_oid(relname + 2) != relid)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("relation %u is not the message table of a queue", relid)));
	return relname + 2;
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

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("privilege must not be NULL")));
	priv = privilege_from_text(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!OidIsValid(queue_table_oid(name)))
		queue_report_missing(name);
	queue_require(queue_lookup(name), priv);
	PG_RETURN_VOID();
}

/*
 * queue.has_queue_privilege(role regrole, queue_name text, privilege text)
 * queue.has_queue_privilege(queue_name text, privilege text)
 *		RETURNS boolean
 *
 * Whether a role (the current user in the second form) holds a privilege
 * on a queue, as has_table_privilege answers for a table: 22023 for a bad
 * queue name or an unknown privilege, 42704 for a missing queue.  Both are
 * STRICT.
 */
static QueueEntry *
privilege_args(FunctionCallInfo fcinfo, int argno, QueuePrivilege *priv)
{
	char	   *name = queue_name_arg(fcinfo, argno);

	*priv = privilege_from_text(text_to_cstring(PG_GETARG_TEXT_PP(argno + 1)));
	if (!OidIsValid(queue_table_oid(name)))
		queue_report_missing(name);
	return queue_lookup(name);
}

Datum
queue_has_privilege_role(PG_FUNCTION_ARGS)
{
	QueuePrivilege priv;
	QueueEntry *entry = privilege_args(fcinfo, 1, &priv);

	PG_RETURN_BOOL((queue_privileges_of(entry->name, entry->seqid, PG_GETARG_OID(0)) &
					PRIV_BIT(priv)) != 0);
}

Datum
queue_has_privilege_current(PG_FUNCTION_ARGS)
{
	QueuePrivilege priv;
	QueueEntry *entry = privilege_args(fcinfo, 0, &priv);

	PG_RETURN_BOOL(queue_has_privilege(entry, priv));
}

/*
 * queue._may_see(queue_name text) RETURNS boolean
 *		Whether the current user holds any privilege on a queue, or has
 *		the privileges of pg_read_all_stats (the filter of the view
 *		queue.queues); false for a queue dropped meanwhile.
 */
Datum
queue_may_see(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			relid = queue_table_oid(name);

	if (!OidIsValid(relid))
		PG_RETURN_BOOL(false);
	/* monitoring roles see every queue's options and counts (queue.stats) */
	if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(queue_privileges_of(name, getIdentitySequence(relid, 1, true),
									   GetUserId()) != 0);
}

/*
 * queue._bound_queues(topic text) RETURNS text[]
 *		The queues bound to a topic, in name order, for queue.publish: the
 *		bindings are read as the extension's owner, then the caller must
 *		hold send on each (42501 for the first it does not).
 */
Datum
queue_bound_queues(PG_FUNCTION_ARGS)
{
	Datum		topic = PG_GETARG_DATUM(0);
	Oid			argtypes[1] = {TEXTOID};
	Datum	   *names;
	int			n;
	int			i;

	queue_spi_connect();
	if (SPI_execute_with_args("SELECT b.queue_name FROM queue.bindings b"
							  " WHERE b.topic OPERATOR(pg_catalog.=) $1"
							  " ORDER BY b.queue_name",
							  1, argtypes, &topic, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read queue.bindings");
	n = (int) SPI_processed;
	names = SPI_palloc(sizeof(Datum) * Max(n, 1));	/* outlives SPI_finish */
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
									  1, &isnull);

		names[i] = SPI_datumTransfer(d, false, -1);
	}
	queue_spi_finish();

	for (i = 0; i < n; i++)
		queue_require(queue_lookup(TextDatumGetCString(names[i])), QPRIV_SEND);
	PG_RETURN_ARRAYTYPE_P(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * queue._on_drop_owned() RETURNS event_trigger
 *		After DROP OWNED, which may have taken the anchor from roles: run
 *		queue._forget_unanchored() as the extension's owner (the caller of
 *		DROP OWNED may not write the catalog).
 */
Datum
queue_on_drop_owned(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("queue._on_drop_owned is an event trigger function")));
	queue_spi_connect();
	if (SPI_execute("SELECT queue._forget_unanchored()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not forget the rows of queue.grants");
	queue_spi_finish();
	PG_RETURN_NULL();
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
	SetUserIdAndSecContext(queue_extension_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	result = FunctionCallInvoke(call);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	fcinfo->isnull = call->isnull;
	return result;
}

/* where create and alter take their dead_letter_queue */
#define CREATE_DEAD_LETTER_QUEUE_ARG	11
#define ALTER_DEAD_LETTER_QUEUE_ARG		10

/*
 * require_dead_letter_queue
 *		Whoever sends a queue's dead letters to another queue must be
 *		allowed to send to it (checked as the caller, before the work runs
 *		as the owner): 22023 for a bad name, 42704 for a missing queue,
 *		42501 without send.  NULL and '' name no queue.
 */
static void
require_dead_letter_queue(FunctionCallInfo fcinfo, int argno)
{
	char	   *dlq;

	if (PG_ARGISNULL(argno))
		return;
	dlq = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (dlq[0] == '\0')
		return;
	queue_check_name(dlq, "dead_letter_queue");
	if (!OidIsValid(queue_table_oid(dlq)))
		queue_report_missing_as(dlq, "dead-letter queue");
	queue_require(queue_lookup(dlq), QPRIV_SEND);
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
	/* pg_namespace_aclcheck is gone in PostgreSQL 16 */
#if PG_VERSION_NUM >= 160000
	result = object_aclcheck(NamespaceRelationId, queue_namespace(), caller, ACL_CREATE);
#else
	result = pg_namespace_aclcheck(queue_namespace(), caller, ACL_CREATE);
#endif
	if (result != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for schema queue"),
				 errdetail("Creating a queue needs the CREATE privilege on schema queue."),
				 errhint("The owner of the extension grants it with GRANT CREATE ON SCHEMA queue TO role.")));
	if (PG_NARGS() > CREATE_DEAD_LETTER_QUEUE_ARG)
		require_dead_letter_queue(fcinfo, CREATE_DEAD_LETTER_QUEUE_ARG);
	return call_as_owner(fcinfo, "_create_impl", OIDOID, ObjectIdGetDatum(caller));
}

/*
 * The managing functions: alter, drop, purge, pause, resume, redrive,
 * grant, revoke (the queue is their first argument), bind and unbind (their
 * second).  Each has its C entry, which calls manage().
 */
typedef enum ManagedKind
{
	MANAGE_ALTER,
	MANAGE_DROP,
	MANAGE_PURGE,
	MANAGE_PAUSE,
	MANAGE_RESUME,
	MANAGE_REDRIVE,
	MANAGE_GRANT,
	MANAGE_REVOKE,
	MANAGE_BIND,
	MANAGE_UNBIND
} ManagedKind;

typedef struct ManagedFunction
{
	const char *name;			/* the SQL function's */
	const char *impl;			/* what runs as the owner */
	int			queue_arg;		/* which argument names the queue */
} ManagedFunction;

static const ManagedFunction managed_functions[] = {
	[MANAGE_ALTER] = {"alter", "_alter_impl", 0},
	[MANAGE_DROP] = {"drop", "_drop_impl", 0},
	[MANAGE_PURGE] = {"purge", "_purge_impl", 0},
	[MANAGE_PAUSE] = {"pause", "_pause_impl", 0},
	[MANAGE_RESUME] = {"resume", "_resume_impl", 0},
	[MANAGE_REDRIVE] = {"redrive", "_redrive_impl", 0},
	[MANAGE_GRANT] = {"grant", "_grant_impl", 0},
	[MANAGE_REVOKE] = {"revoke", "_revoke_impl", 0},
	[MANAGE_BIND] = {"bind", "_bind_impl", 1},
	[MANAGE_UNBIND] = {"unbind", "_unbind_impl", 1},
};

/*
 * manage
 *		What every managing function does: check that the queue exists and
 *		that the caller manages it, then run queue._<name>_impl as the
 *		extension's owner.
 */
static Datum
manage(FunctionCallInfo fcinfo, ManagedKind kind)
{
	const ManagedFunction *fn = &managed_functions[kind];
	char	   *name = queue_name_arg(fcinfo, fn->queue_arg);

	if (!OidIsValid(queue_table_oid(name)))
	{
		/* drop(if_exists => true) of a missing queue */
		if (kind == MANAGE_DROP && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1))
			PG_RETURN_BOOL(false);
		queue_report_missing(name);
	}
	queue_require(queue_lookup(name), QPRIV_MANAGE);
	if (kind == MANAGE_ALTER && PG_NARGS() > ALTER_DEAD_LETTER_QUEUE_ARG)
		require_dead_letter_queue(fcinfo, ALTER_DEAD_LETTER_QUEUE_ARG);
	return call_as_owner(fcinfo, fn->impl, InvalidOid, (Datum) 0);
}

Datum
queue_alter(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_ALTER);
}

Datum
queue_drop(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_DROP);
}

Datum
queue_purge(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_PURGE);
}

Datum
queue_pause(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_PAUSE);
}

Datum
queue_resume(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_RESUME);
}

Datum
queue_redrive(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_REDRIVE);
}

Datum
queue_grant(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_GRANT);
}

Datum
queue_revoke(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_REVOKE);
}

Datum
queue_bind(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_BIND);
}

Datum
queue_unbind(PG_FUNCTION_ARGS)
{
	return manage(fcinfo, MANAGE_UNBIND);
}

/*
 * queue_manage
 *		The one C entry of every managing function in the SQL of 0.5.0 and
 *		before (until ALTER EXTENSION UPDATE), which tells them apart by the
 *		name of the function called.
 */
Datum
queue_manage(PG_FUNCTION_ARGS)
{
	char	   *fname = get_func_name(fcinfo->flinfo->fn_oid);
	int			i;

	for (i = 0; i < lengthof(managed_functions); i++)
		if (fname != NULL && strcmp(fname, managed_functions[i].name) == 0)
			return manage(fcinfo, (ManagedKind) i);
	elog(ERROR, "queue_manage called as unknown function \"%s\"",
		 fname ? fname : "?");
	return (Datum) 0;			/* keep the compiler quiet */
}
