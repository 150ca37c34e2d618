/*
 * metrics.c
 *	  pgmq.metrics(queue_name) and pgmq.metrics_all().
 *
 * Read-only: queues are opened with AccessShareLock, so both work on a hot
 * standby.  There, metrics_all leaves out unlogged queues (PostgreSQL cannot
 * read unlogged tables during recovery; metrics() of one raises that error).
 * total_messages is the identity sequence's last value, i.e. how many
 * messages were ever sent to the queue.  Reading it needs SELECT or USAGE on
 * the sequence, checked here: pg_sequence_last_value() raises 42501 without
 * it up to PostgreSQL 17 but returns NULL from 18 on, which would make
 * total_messages a silent 0.
 *
 * pgmq.metrics_result has 7 columns at version 1.0 and 8 from 1.1 on (the
 * 8th, dead_lettered, sums pgmq.dead_letter_counts); the library fills
 * whichever the installed type has, so it serves both versions.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/dependency.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_metrics);
PG_FUNCTION_INFO_V1(pgmq_metrics_all);

#define METRICS_NATTS_1_0 7
#define METRICS_NATTS 8

/*
 * The identity sequence of the queue table is found from the table's OID
 * ($3), never from its name: no name is ever put inside a string literal.
 */
#define METRICS_SQL(extra) \
	"SELECT pg_catalog.count(*)," \
	" (EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.max(enqueued_at)))::pg_catalog.int4," \
	" (EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.min(enqueued_at)))::pg_catalog.int4," \
	" COALESCE((SELECT pg_catalog.pg_sequence_last_value(d.objid::pg_catalog.regclass)" \
	"   FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a" \
	"   ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid" \
	"   WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" \
	"   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" \
	"   AND d.refobjid OPERATOR(pg_catalog.=) $3 AND a.attname OPERATOR(pg_catalog.=) 'msg_id'" \
	"   AND d.deptype OPERATOR(pg_catalog.=) ANY ('{a,i}'::pg_catalog.\"char\"[]) LIMIT 1), 0)," \
	" pg_catalog.now()," \
	" pg_catalog.count(*) FILTER (WHERE vt OPERATOR(pg_catalog.<=) $1)" extra \
	" FROM %1$s"

static const PgmqPlanSpec metrics_spec = {
	METRICS_SQL(""), 3, {TIMESTAMPTZOID, TEXTOID, OIDOID}
};

/* 1.1: the same plus how many messages the queue ($2) has dead-lettered */
static const PgmqPlanSpec metrics_1_1_spec = {
	METRICS_SQL(", (SELECT COALESCE(pg_catalog.sum(c.moved), 0)::pg_catalog.int8"
				" FROM pgmq.dead_letter_counts c WHERE c.queue_name OPERATOR(pg_catalog.=) $2)"),
	3, {TIMESTAMPTZOID, TEXTOID, OIDOID}
};

/* Check the installed pgmq.metrics_result: 7 or 8 columns. */
static int
metrics_natts(TupleDesc tupdesc)
{
	if (tupdesc->natts != METRICS_NATTS_1_0 && tupdesc->natts != METRICS_NATTS)
		elog(ERROR, "pgmq: pgmq.metrics_result has %d columns, expected %d or %d",
			 tupdesc->natts, METRICS_NATTS_1_0, METRICS_NATTS);
	return tupdesc->natts;
}

/* The caller may read the last value of queue table relid's msg_id sequence. */
static void
check_sequence_privilege(Oid relid)
{
	ListCell   *lc;

	foreach(lc, getOwnedSequences(relid))
	{
		Oid			seq = lfirst_oid(lc);

		if (pg_class_aclcheck(seq, GetUserId(), ACL_SELECT | ACL_USAGE) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_SEQUENCE, get_rel_name(seq));
	}
}

/*
 * Compute the metrics of open queue q into values/nulls (natts columns of
 * pgmq.metrics_result).  Connected to SPI; the values are copied out of
 * SPI's memory (int8 and timestamptz are by reference on some platforms),
 * so they outlive SPI_freetuptable() and SPI_finish().
 */
static void
queue_metrics(PgmqQueue *q, int natts, Datum *values, bool *nulls)
{
	Datum		args[3];
	TupleDesc	desc;
	int			i;

	check_sequence_privilege(q->qrelid);
	args[0] = pgmq_seconds_from_now(0);
	args[1] = CStringGetTextDatum(q->name);
	args[2] = ObjectIdGetDatum(q->qrelid);
	pgmq_run(q, natts == METRICS_NATTS ? &metrics_1_1_spec : &metrics_spec, args, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "pgmq: metrics query returned " UINT64_FORMAT " rows", SPI_processed);
	desc = SPI_tuptable->tupdesc;
	for (i = 0; i < natts - 1; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], desc, i + 1, &nulls[i + 1]);

		values[i + 1] = nulls[i + 1] ? (Datum) 0 :
			SPI_datumTransfer(d, att->attbyval, att->attlen);
	}
	nulls[0] = false;
	SPI_freetuptable(SPI_tuptable);
}

/* pgmq.metrics(queue_name text) RETURNS pgmq.metrics_result */
Datum
pgmq_metrics(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	TupleDesc	tupdesc;
	Datum		values[METRICS_NATTS];
	bool		nulls[METRICS_NATTS];

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pgmq: metrics must return a row type");
	pgmq_open_queue(fcinfo, 0, AccessShareLock, &q);
	pgmq_connect();
	queue_metrics(&q, metrics_natts(tupdesc), values, nulls);
	pgmq_finish();
	values[0] = CStringGetTextDatum(q.name);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/* metrics_all: one queue's row into the caller's tuplestore. */
static void
metrics_all_visit(PgmqQueue *q, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[METRICS_NATTS];
	bool		nulls[METRICS_NATTS];

	if (RecoveryInProgress() &&
		get_rel_persistence(q->qrelid) == RELPERSISTENCE_UNLOGGED)
		return;					/* unreadable on a standby: skip */
	queue_metrics(q, metrics_natts(rsinfo->setDesc), values, nulls);
	values[0] = CStringGetTextDatum(q->name);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* pgmq.metrics_all() RETURNS SETOF pgmq.metrics_result */
Datum
pgmq_metrics_all(PG_FUNCTION_ARGS)
{
	pgmq_init_srf(fcinfo);
	pgmq_connect();
	pgmq_foreach_queue(AccessShareLock, metrics_all_visit, fcinfo->resultinfo);
	pgmq_finish();
	return (Datum) 0;
}
