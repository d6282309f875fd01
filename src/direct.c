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
 * Otherwise the callers fall back to their prepared SPI statements.  No
 * table privilege is checked here, as none is by SPI, which runs as the
 * extension's owner: the callers checked the queue privilege first
 * (acl.c).  Rows are inserted,
 * updated and deleted with heap_insert, heap_update and heap_delete (which
 * also toast, WAL-log and take predicate locks), and the three indexes are
 * maintained here; a table with any other index goes the SQL way.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
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
 *		Whether a message table is exactly as queue.create made it: a heap
 *		with the message columns, no trigger, rule, row-level security or
 *		CHECK constraint, and just its three btree indexes (primary key,
 *		priority, group), which this file maintains itself.  Finds the
 *		indexes.  Any ALTER TABLE or CREATE INDEX sends a relcache
 *		invalidation, and the plan cache then asks again.
 */
static bool
direct_possible(QueueEntry *entry, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char		name[NAMEDATALEN];
	List	   *indexes;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		rel->trigdesc != NULL ||
		rel->rd_rules != NULL ||
		rel->rd_rel->relrowsecurity ||
		desc->natts != MSG_NATTS ||
		(desc->constr != NULL && desc->constr->num_check > 0) ||
		!OidIsValid(entry->seqid))
		return false;
	for (i = 0; i < MSG_NATTS; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated ||
			att->atttypid != message_columns[i].type ||
			strcmp(NameStr(att->attname), message_columns[i].name) != 0)
			return false;
	}

	entry->index_oids[DIRECT_PKEY] = RelationGetPrimaryKeyIndex(rel);
	queue_relname(name, "qpri_", entry->name);
	entry->index_oids[DIRECT_PRIORITY] = get_relname_relid(name, RelationGetNamespace(rel));
	queue_relname(name, "qgrp_", entry->name);
	entry->index_oids[DIRECT_GROUP] = get_relname_relid(name, RelationGetNamespace(rel));

	indexes = RelationGetIndexList(rel);
	if (list_length(indexes) != DIRECT_NINDEXES)
		return false;
	for (i = 0; i < DIRECT_NINDEXES; i++)
	{
		Relation	irel;
		bool		btree;

		if (!list_member_oid(indexes, entry->index_oids[i]))
			return false;
		irel = index_open(entry->index_oids[i], AccessShareLock);
		btree = (irel->rd_rel->relam == BTREE_AM_OID);
		index_close(irel, AccessShareLock);
		if (!btree)
			return false;
	}
	return true;
}

/*
 * direct_open
 *		Open a queue's message table for direct access, with its indexes
 *		when rows will be inserted or updated.  Returns false, having
 *		opened nothing, when the caller must use SQL instead.
 */
bool
direct_open(QueueEntry *entry, bool with_indexes, DirectTable *dt)
{
	int			i;

	if (entry->direct_ok == 0)
		return false;
	/* SQL says what read-only transactions and hot standbys may not do */
	if (XactReadOnly || RecoveryInProgress())
		return false;

	/*
	 * The queue may have been dropped while we waited for the lock (our
	 * cache entry is invalidated only now, as the lock is granted).
	 */
	dt->rel = try_table_open(entry->relid, RowExclusiveLock);
	if (dt->rel == NULL)
		queue_report_missing(entry->name);
	if (entry->direct_ok < 0)
		entry->direct_ok = direct_possible(entry, dt->rel) ? 1 : 0;
	if (entry->direct_ok == 0)
	{
		table_close(dt->rel, RowExclusiveLock);
		return false;
	}

	/*
	 * The primary key now; the partial indexes when a row needs them
	 * (direct_index), which most never do.  The table's lock keeps them
	 * from going away: dropping or rebuilding an index needs a lock that
	 * conflicts with it, or waits for its holders.
	 */
	dt->with_indexes = with_indexes;
	for (i = 0; i < DIRECT_NINDEXES; i++)
		dt->indexes[i] = NULL;
	if (with_indexes)
		dt->indexes[DIRECT_PKEY] = index_open(entry->index_oids[DIRECT_PKEY],
											  RowExclusiveLock);
	memcpy(dt->index_oids, entry->index_oids, sizeof(dt->index_oids));
	dt->snapshot = NULL;
	return true;
}

/*
 * direct_index_insert
 *		Index a new row version at tid: the primary key always, the
 *		partial indexes when their predicates hold (priority <> 0,
 *		group_key IS NOT NULL).  'update' tells the indexes that the keys
 *		did not change (read changes no indexed column), which lets btree
 *		delete the old versions bottom-up.
 */
/*
 * direct_index
 *		One of the indexes of a table opened with them, opened now if it
 *		was not yet.
 */
static Relation
direct_index(DirectTable *dt, int which)
{
	Assert(dt->with_indexes);
	if (dt->indexes[which] == NULL)
		dt->indexes[which] = index_open(dt->index_oids[which], RowExclusiveLock);
	return dt->indexes[which];
}

void
direct_index_insert(DirectTable *dt, Datum *values, bool *nulls,
					ItemPointer tid, bool update)
{
	Datum		key[2];
	bool		key_nulls[2] = {false, false};

	key[0] = values[MSG_ID];
	index_insert(direct_index(dt, DIRECT_PKEY), key, key_nulls, tid, dt->rel,
				 UNIQUE_CHECK_YES, update, NULL);
	key[1] = values[MSG_ID];
	if (DatumGetInt32(values[MSG_PRIORITY]) != 0)
	{
		key[0] = values[MSG_PRIORITY];
		index_insert(direct_index(dt, DIRECT_PRIORITY), key, key_nulls, tid, dt->rel,
					 UNIQUE_CHECK_NO, update, NULL);
	}
	if (!nulls[MSG_GROUP_KEY])
	{
		key[0] = values[MSG_GROUP_KEY];
		index_insert(direct_index(dt, DIRECT_GROUP), key, key_nulls, tid, dt->rel,
					 UNIQUE_CHECK_NO, update, NULL);
	}
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
 *		Release what direct_open took (the locks are kept until the end of
 *		the transaction, as a statement's would be) and make the changes
 *		visible to later commands of the transaction, as SPI does after a
 *		statement.
 */
void
direct_close(DirectTable *dt)
{
	direct_close_ext(dt, false);
}

/*
 * direct_close_ext
 *		direct_close, but with release, when nothing was changed, let go of
 *		the locks too: a long poll sleeping between two looks at the queue
 *		then does not hold up a queue.drop or ALTER.  (A lock the
 *		transaction took earlier is reference-counted and stays.)
 */
void
direct_close_ext(DirectTable *dt, bool release)
{
	LOCKMODE	mode = release ? RowExclusiveLock : NoLock;
	int			i;

	if (dt->snapshot)
		UnregisterSnapshot(dt->snapshot);
	for (i = 0; i < DIRECT_NINDEXES; i++)
		if (dt->indexes[i])
			index_close(dt->indexes[i], mode);
	table_close(dt->rel, mode);
	if (!release)
		CommandCounterIncrement();
}
