/*
 * dead_letter_policy.c
 *	  Dead-letter policies: pgmq.set_dead_letter_queue,
 *	  clear_dead_letter_queue, and the per-backend cached policy the read
 *	  paths open (pgmq_dead_letter_open).
 *
 * A policy is a row of pgmq.dead_letter_policy (queue_name, dead_letter_queue,
 * max_read_ct); both names reference pgmq.meta ON DELETE CASCADE, so dropping
 * either queue removes the policy.  The policy is cached in the queue's
 * plan-cache entry (PgmqQueueState) and cleared by any relcache invalidation
 * of the queue table, which the triggers on the policy table send
 * (dead_letter_trigger.c): a queue without a policy costs its readers one
 * cached flag test.  The dead-letter queue's name is read back from the
 * table, so it passes the queue name rule before it is used
 * (pgmq_name_from_table); a row with a bad name counts as no policy.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "dead_letter.h"

PG_FUNCTION_INFO_V1(pgmq_set_dead_letter_queue);
PG_FUNCTION_INFO_V1(pgmq_clear_dead_letter_queue);

bool
pgmq_dl_relation_exists(const char *relname)
{
	Oid			nsp = pgmq_namespace_oid(true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid(relname, nsp));
}

/* Fill st with q's policy (connected to SPI). */
static void
load_policy(PgmqQueue *q, PgmqQueueState *st)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	st->dlq_max_read_ct = 0;
	st->dlq_name[0] = '\0';
	if (pgmq_dl_relation_exists("dead_letter_policy"))
	{
		values[0] = CStringGetTextDatum(q->name);
		pgmq_run_sql("SELECT dead_letter_queue::pg_catalog.text, max_read_ct"
					 " FROM pgmq.dead_letter_policy"
					 " WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
					 SPI_OK_SELECT, 1, types, values, NULL);
		if (SPI_processed == 1)
		{
			char	   *dlq = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			bool		isnull;
			int32		max = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 2,
														  &isnull));
			char		checked[NAMEDATALEN];

			if (!isnull && max > 0 &&
				pgmq_name_from_table(dlq, "pgmq.dead_letter_policy", checked))
			{
				strlcpy(st->dlq_name, checked, sizeof(st->dlq_name));
				st->dlq_max_read_ct = max;
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	st->dlq_known = true;
}

/*
 * For a read of open queue q (connected to SPI): if q has a dead-letter
 * policy, lock its dead-letter queue into dl and return true.  False when
 * there is no policy, or its dead-letter queue has just been dropped.
 */
bool
pgmq_dead_letter_open(PgmqQueue *q, PgmqDeadLetter *dl)
{
	PgmqQueueState *st = pgmq_queue_state(q);
	int32		max;

	if (!st->dlq_known)
		load_policy(q, st);
	if (st->dlq_max_read_ct == 0)
		return false;
	max = st->dlq_max_read_ct;
	strlcpy(dl->dlq.name, st->dlq_name, sizeof(dl->dlq.name));
	/* st may be reset by invalidations this lock brings in: copied above */
	if (!pgmq_open_named(&dl->dlq, RowExclusiveLock, true))
		return false;
	dl->max_read_ct = max;
	return true;
}

/* Refuse to run without the 1.1 tables (the library is newer than the SQL). */
static void
require_policy_tables(void)
{
	if (!pgmq_dl_relation_exists("dead_letter_policy"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("dead-letter queues need pgmq 1.1"),
				 errhint("Run ALTER EXTENSION pgmq UPDATE.")));
}

/*
 * pgmq.set_dead_letter_queue(queue_name text, dead_letter_queue text,
 *		max_read_ct integer) RETURNS void
 */
Datum
pgmq_set_dead_letter_queue(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	PgmqQueue	dlq;
	int32		max_read_ct;
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];

	pgmq_name_arg(fcinfo, 0, q.name);
	pgmq_require_arg(fcinfo, 1, "dead_letter_queue");
	pgmq_check_name(text_to_cstring(PG_GETARG_TEXT_PP(1)), dlq.name);
	max_read_ct = pgmq_positive_int_arg(fcinfo, 2, "max_read_ct");
	if (strcmp(q.name, dlq.name) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("queue \"%s\" cannot be its own dead-letter queue", q.name),
				 errhint("Create another queue to receive its dead letters.")));
	require_policy_tables();
	(void) pgmq_open_named(&q, AccessShareLock, false);
	(void) pgmq_open_named(&dlq, AccessShareLock, false);

	values[0] = CStringGetTextDatum(q.name);
	values[1] = CStringGetTextDatum(dlq.name);
	values[2] = Int32GetDatum(max_read_ct);
	pgmq_connect();
	/* the row trigger invalidates q's cached policy in every backend */
	pgmq_run_sql("INSERT INTO pgmq.dead_letter_policy AS p (queue_name, dead_letter_queue, max_read_ct)"
				 " VALUES (" PGMQ_META_NAME("$1") ", " PGMQ_META_NAME("$2") ", $3)"
				 " ON CONFLICT (queue_name) DO UPDATE"
				 " SET dead_letter_queue = EXCLUDED.dead_letter_queue,"
				 " max_read_ct = EXCLUDED.max_read_ct",
				 SPI_OK_INSERT, 3, types, values, NULL);
	pgmq_finish();
	PG_RETURN_VOID();
}

/* pgmq.clear_dead_letter_queue(queue_name text) RETURNS boolean */
Datum
pgmq_clear_dead_letter_queue(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		found;

	pgmq_name_arg(fcinfo, 0, q.name);
	require_policy_tables();
	(void) pgmq_open_named(&q, AccessShareLock, false);
	values[0] = CStringGetTextDatum(q.name);
	pgmq_connect();
	pgmq_run_sql("DELETE FROM pgmq.dead_letter_policy WHERE queue_name OPERATOR(pg_catalog.=) "
				 PGMQ_META_NAME("$1"),
				 SPI_OK_DELETE, 1, types, values, NULL);
	found = SPI_processed > 0;
	pgmq_finish();
	PG_RETURN_BOOL(found);
}
