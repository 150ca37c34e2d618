/*
 * queue_iter.c
 *	  Queue names read back from tables: the check every such name passes,
 *	  the one loop over the queues in pgmq.meta, and the trigger that keeps
 *	  bad names out of pgmq.meta on UPDATE.
 *
 * A name stored in a table is no more trusted than a name passed as an
 * argument: whoever may write pgmq.meta, pgmq.dead_letter_policy and the
 * other pgmq tables (the extension owner; with a trusted install, the role
 * that installed pgmq) may not be the role that later reads the name back,
 * say a superuser running metrics_all.  So every name read from a table
 * passes the same rule as an argument (pgmq_name_check, name_rules.c: the
 * rule lives there and nowhere else) before it reaches a lookup or SQL text.
 *
 * A bad name read back is skipped with a WARNING, not an ERROR: the triggers
 * on pgmq.meta refuse bad names on INSERT and UPDATE, so one can only be
 * there if triggers were bypassed (session_replication_role = replica, a
 * superuser disabling them), and one such row must not stop metrics_all or
 * create_fifo_indexes_all for every other queue.  A "queue" whose q_ table
 * is not a table (a view, say, created by whoever may create objects in
 * schema pgmq) is skipped the same way: reading a view runs its owner's
 * choice of functions as the reader.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_meta_check_name);

/*
 * Check raw, a queue name read from table source, with the argument rule;
 * write the checked name to out (NAMEDATALEN bytes).  A bad name gives a
 * WARNING naming source and false.
 */
bool
pgmq_name_from_table(const char *raw, const char *source, char *out)
{
	if (raw != NULL && pgmq_name_check(raw, strlen(raw), out) == PGMQ_NAME_OK)
		return true;
	ereport(WARNING,
			(errcode(ERRCODE_INVALID_NAME),
			 errmsg("pgmq: skipped queue name %s read from %s: it is not a valid queue name",
					raw == NULL ? "NULL" : quote_literal_cstr(raw), source),
			 errhint("Queue names are 1 to %d ASCII letters, digits, \"_\" or \"-\".",
					 PGMQ_MAX_NAME_LEN)));
	return false;
}

/* Byte-wise order of checked names (collation "C"). */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp((const char *) a, (const char *) b);
}

/*
 * Call visit(q, arg) for every queue in pgmq.meta whose name passes the rule
 * and whose pgmq.q_<name> is a table, in name order, with the table locked
 * in mode.  Queues without their table are left out silently (a meta row
 * being dropped).  Connected to SPI; the names are copied out before the
 * first visit, so visit may run SPI statements of its own.
 */
void
pgmq_foreach_queue(LOCKMODE mode, PgmqQueueVisit visit, void *arg)
{
	char	  (*names)[NAMEDATALEN];
	uint64		n = 0;
	uint64		i;

	pgmq_run_sql("SELECT queue_name::pg_catalog.text FROM pgmq.meta",
				 SPI_OK_SELECT, 0, NULL, NULL, NULL);
	names = palloc(sizeof(*names) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *raw = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (pgmq_name_from_table(raw, "pgmq.meta", names[n]))
			n++;
	}
	SPI_freetuptable(SPI_tuptable);
	if (n > 1)
		qsort(names, n, NAMEDATALEN, name_cmp);

	for (i = 0; i < n; i++)
	{
		PgmqQueue	q;
		char		kind;

		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;			/* two rows that fold to one queue */
		strlcpy(q.name, names[i], sizeof(q.name));
		if (!pgmq_open_named(&q, mode, true))
			continue;
		kind = get_rel_relkind(q.qrelid);
		if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		{
			ereport(WARNING,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("pgmq: skipped queue \"%s\": pgmq.q_%s is not a table",
							q.name, q.name)));
			continue;
		}
		visit(&q, arg);
	}
	pfree(names);
}

/*
 * Trigger on pgmq.meta (BEFORE UPDATE OF queue_name, FOR EACH ROW): refuse
 * a new name that breaks the rule, with the error an argument would get.
 * (INSERT has its own trigger, which leaves bad rows of a restore out.)
 */
Datum
pgmq_meta_check_name(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	bool		isnull;
	Datum		name;
	char		checked[NAMEDATALEN];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pgmq: meta_check_name must be a BEFORE UPDATE row trigger")));
	name = heap_getattr(td->tg_newtuple, 1, RelationGetDescr(td->tg_relation), &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("queue_name cannot be NULL")));
	pgmq_check_name(TextDatumGetCString(name), checked);
	return PointerGetDatum(td->tg_newtuple);
}
