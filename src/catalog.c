/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		The tables of a queue: their names, and their tie to the extension.
 *
 * A queue named n has five tables in schema queue, q_n (messages), dl_n
 * (dead letters), a_n (archive), k_n (idempotency keys) and p_n (producer
 * sequence numbers); the name rule (QUEUE_NAME_MAXLEN) keeps every one of
 * them within NAMEDATALEN.
 *
 * A queue's tables are created by queue.create, not by the extension's
 * script, so they are not members of the extension: pg_dump dumps them
 * with their rows like any table.  To keep DROP EXTENSION from leaving them
 * behind (or from dropping them unasked), each table gets a normal
 * dependency on the extension: DROP EXTENSION queue then refuses while
 * queues exist, and DROP EXTENSION queue CASCADE drops them with it.
 *
 * Copyright (c) 2026, the queue authors (the PostgreSQL Licence: LICENSE)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "utils/lsyscache.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_depend_on_extension_sql);

/*
 * queue_relname
 *		The name of one of the tables or indexes of queue name: prefix
 *		("q_", "dl_", "a_", "k_", "p_", or an index's: "qpri_", "qgrp_")
 *		and the name, into buf (NAMEDATALEN bytes).
 */
void
queue_relname(char *buf, const char *prefix, const char *name)
{
	snprintf(buf, NAMEDATALEN, "%s%s", prefix, name);
}

/*
 * queue_table_oid
 *		The OID of queue.q_<name>, or InvalidOid when there is no such queue.
 */
Oid
queue_table_oid(const char *name)
{
	char		relname[NAMEDATALEN];
	Oid			relid;

	queue_relname(relname, "q_", name);
	relid = get_relname_relid(relname, get_namespace_oid("queue", false));
	/* only a table: never an index or sequence of an older naming */
	if (OidIsValid(relid) && get_rel_relkind(relid) != RELKIND_RELATION)
		return InvalidOid;
	return relid;
}

/*
 * queue._depend_on_extension(relid regclass) RETURNS void
 */
Datum
queue_depend_on_extension_sql(PG_FUNCTION_ARGS)
{
	ObjectAddress table;
	ObjectAddress extension;
	Oid			extoid = get_extension_oid("queue", false);

	ObjectAddressSet(table, RelationRelationId, PG_GETARG_OID(0));
	ObjectAddressSet(extension, ExtensionRelationId, extoid);
	recordDependencyOn(&table, &extension, DEPENDENCY_NORMAL);
	PG_RETURN_VOID();
}
