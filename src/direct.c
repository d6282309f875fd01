/*-------------------------------------------------------------------------
 *
 * direct.c
 *		Access to a message table without planning or running a statement.
 *
 * send, read, pop and ack touch one row (or a few) found through the
 * primary key; planning nothing and running no executor tree for that is
 * where queue goes faster than the same work written in SQL.  It is only
 * done while the table is exactly as queue.create made it: no trigger,
 * rule, row-level security, CHECK constraint or extra column added since,
 * and while the caller holds the table privileges the statement would
 * need.  Otherwise the callers fall back to their prepared SPI statements,
 * which also raise the proper permission errors.  Index maintenance goes
 * through the executor's own routines (ExecInsertIndexTuples), so any index
 * a user adds is maintained as well.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "queue.h"

static const struct
{
	const char *name;
	Oid			type;
}			message_columns[MSG_NATTS] = {
	{"id", INT8OID}, {"body", JSONBOID}, {"headers", JSONBOID},
	{"delivery_count", INT4OID}, {"enqueued_at", TIMESTAMPTZOID},
	{"visible_at", TIMESTAMPTZOID}, {"group_key", TEXTOID},
	{"idempotency_key", TEXTOID}, {"priority", INT4OID}, {"leased", BOOLOID}
};

/*
 * queue_now
 *		The clock that visibility is measured against.  Not now(): a
 *		reader whose transaction began before a sender committed must still
 *		see the message, and a visibility timeout must run from the moment
 *		the message is handed out, not from the start of the reader's
 *		transaction.
 */
TimestampTz
queue_now(void)
{
	return GetCurrentTimestamp();
}

/*
 * direct_possible
 *		Whether a message table is exactly as queue.create made it, and
 *		find its primary key and priority index.
 */
static bool
direct_possible(QueueEntry *entry, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char		name[NAMEDATALEN + 16];
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->trigdesc != NULL ||
		rel->rd_rules != NULL ||
		rel->rd_rel->relrowsecurity ||
		desc->natts != MSG_NATTS ||
		(desc->constr != NULL && desc->constr->num_check > 0))
		return false;
	for (i = 0; i < MSG_NATTS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated ||
			att->atttypid != message_columns[i].type ||
			strcmp(NameStr(att->attname), message_columns[i].name) != 0)
			return false;
	}

	entry->pkey_index = RelationGetPrimaryKeyIndex(rel);
	snprintf(name, sizeof(name), "q_%s_priority", entry->name);
	entry->priority_index = get_relname_relid(name, RelationGetNamespace(rel));
	return OidIsValid(entry->seqid) && OidIsValid(entry->pkey_index) &&
		OidIsValid(entry->priority_index);
}

/*
 * direct_open
 *		Open a queue's message table for direct access, with its indexes
 *		when rows will be inserted or updated.  Returns false, having
 *		opened nothing, when the caller must use SQL instead.
 */
bool
direct_open(QueueEntry *entry, AclMode privileges, bool with_indexes,
			DirectTable *dt)
{
	if (entry->direct_ok == 0)
		return false;
	if (pg_class_aclmask(entry->relid, GetUserId(), privileges, ACLMASK_ALL) != privileges)
		return false;

	dt->rel = table_open(entry->relid, RowExclusiveLock);
	if (entry->direct_ok < 0)
		entry->direct_ok = direct_possible(entry, dt->rel) ? 1 : 0;
	if (entry->direct_ok == 0)
	{
		table_close(dt->rel, RowExclusiveLock);
		return false;
	}

	dt->estate = CreateExecutorState();
	dt->rri = NULL;
	if (with_indexes)
	{
		RangeTblEntry *rte = makeNode(RangeTblEntry);

		/*
		 * A range table of one entry, as the executor would build: the
		 * index routines ask it which columns an update changes (read
		 * changes visible_at, delivery_count and leased), to tell the
		 * indexes that their keys did not change.
		 */
		rte->rtekind = RTE_RELATION;
		rte->relid = entry->relid;
		rte->relkind = RELKIND_RELATION;
		rte->rellockmode = RowExclusiveLock;
		rte->updatedCols = bms_make_singleton(MSG_VISIBLE_AT + 1 - FirstLowInvalidHeapAttributeNumber);
		rte->updatedCols = bms_add_member(rte->updatedCols,
										  MSG_DELIVERY_COUNT + 1 - FirstLowInvalidHeapAttributeNumber);
		rte->updatedCols = bms_add_member(rte->updatedCols,
										  MSG_LEASED + 1 - FirstLowInvalidHeapAttributeNumber);
		ExecInitRangeTable(dt->estate, list_make1(rte));

		dt->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(dt->rri, dt->rel, 1, NULL, 0);
		ExecOpenIndices(dt->rri, false);
	}
	dt->slot = ExecInitExtraTupleSlot(dt->estate, RelationGetDescr(dt->rel),
									  &TTSOpsVirtual);
	dt->snapshot = NULL;
	return true;
}

/*
 * direct_snapshot
 *		Take the snapshot to find rows with: a new one in READ COMMITTED,
 *		as a new statement would.
 */
void
direct_snapshot(DirectTable *dt)
{
	dt->snapshot = RegisterSnapshot(GetTransactionSnapshot());
}

/*
 * direct_close
 *		Release what direct_open took (the lock is kept until the end of
 *		the transaction, as a statement's would be) and make the changes
 *		visible to later commands of the transaction, as SPI does after a
 *		statement.
 */
void
direct_close(DirectTable *dt)
{
	if (dt->snapshot)
		UnregisterSnapshot(dt->snapshot);
	if (dt->rri)
		ExecCloseIndices(dt->rri);
	ExecResetTupleTable(dt->estate->es_tupleTable, false);
	FreeExecutorState(dt->estate);
	table_close(dt->rel, NoLock);
	CommandCounterIncrement();
}
