/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Tie the tables of a queue to the extension.
 *
 * A queue's tables are created by queue.create, not by the extension's
 * script, so they are not members of the extension: pg_dump dumps them
 * with their rows like any table.  To keep DROP EXTENSION from leaving them
 * behind (or from dropping them unasked), each table gets a normal
 * dependency on the extension: DROP EXTENSION queue then refuses while
 * queues exist, and DROP EXTENSION queue CASCADE drops them with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"

#include "queue.h"

PG_FUNCTION_INFO_V1(queue_depend_on_extension_sql);

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
