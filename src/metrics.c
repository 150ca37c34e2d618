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
 * pgmq.metrics_result has 7 columns at version 1.0, 8 at 1.1 (the 8th,
 * dead_lettered, sums pgmq.dead_letter_counts) and 9 from 1.13.1 on:
 * default_partition_length (pgmq API 1.13.0) is 8th and dead_lettered 9th.
 * default_partition_length is the planner's estimate (pg_class.reltuples) of
 * the rows in the default partitions of q_ and a_, NULL for a queue without
 * one (plain queues).  The library fills whichever shape is installed.
 * queue_name is the name pgmq.meta keeps (the case of the create call).
 * A column named retention_expired (issue 16, appended after those) is not
 * counted in the shape and is filled by name (retention.c).
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
#define METRICS_NATTS_1_1 8
#define METRICS_NATTS 9

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

/*
 * 1.13.1: the same plus the rows in the default partitions of q_ ($3) and a_
 * ($4), then dead_lettered (rows of the queue as pgmq.meta spells it), then
 * that spelling of the name.
 */
static const PgmqPlanSpec metrics_1_13_spec = {
	METRICS_SQL(", (SELECT pg_catalog.sum(GREATEST(c.reltuples, 0))::pg_catalog.int8"
				" FROM pg_catalog.pg_partitioned_table p"
				" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) p.partdefid"
				" WHERE p.partrelid OPERATOR(pg_catalog.=) ANY (ARRAY[$3, $4]))"
				", (SELECT COALESCE(pg_catalog.sum(c.moved), 0)::pg_catalog.int8"
				" FROM pgmq.dead_letter_counts c WHERE c.queue_name OPERATOR(pg_catalog.=) "
				PGMQ_META_NAME("$2") ")"
				", " PGMQ_META_NAME("$2") "::pg_catalog.text"),
	4, {TIMESTAMPTZOID, TEXTOID, OIDOID, OIDOID}
};

/* Is attribute i of tupdesc the retention_expired column? */
static bool
is_retention_col(TupleDesc tupdesc, int i)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, i);

	return !att->attisdropped && strcmp(NameStr(att->attname), "retention_expired") == 0;
}

/* Does tupdesc have the retention_expired column? */
static bool
has_retention_col(TupleDesc tupdesc)
{
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
		if (is_retention_col(tupdesc, i))
			return true;
	return false;
}

/*
 * Check the installed pgmq.metrics_result: 7, 8 or 9 columns, not counting
 * dropped ones (1.13.1 dropped dead_lettered and added it back last).
 */
static int
metrics_natts(TupleDesc tupdesc)
{
	int			live = 0;
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
		if (!TupleDescAttr(tupdesc, i)->attisdropped && !is_retention_col(tupdesc, i))
			live++;
	if (live != METRICS_NATTS_1_0 && live != METRICS_NATTS_1_1 && live != METRICS_NATTS)
		elog(ERROR, "pgmq: pgmq.metrics_result has %d columns, expected %d, %d or %d",
			 live, METRICS_NATTS_1_0, METRICS_NATTS_1_1, METRICS_NATTS);
	return live;
}

/*
 * Spread the natts column values of a result row over tupdesc's attributes,
 * leaving its dropped attributes NULL and putting expired in
 * retention_expired; into values/nulls of tupdesc->natts.
 */
static void
metrics_place(TupleDesc tupdesc, const Datum *cols, const bool *colnulls,
			  int64 expired, Datum *values, bool *nulls)
{
	int			i;
	int			c = 0;

	for (i = 0; i < tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i)->attisdropped)
		{
			values[i] = (Datum) 0;
			nulls[i] = true;
			continue;
		}
		if (is_retention_col(tupdesc, i))
		{
			values[i] = Int64GetDatum(expired);
			nulls[i] = false;
			continue;
		}
		values[i] = cols[c];
		nulls[i] = colnulls[c];
		c++;
	}
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
 * pgmq.metrics_result) but the name, which goes to name_out (NAMEDATALEN
 * bytes) for the caller to put in values[0].  Connected to SPI; the values
 * are copied out of SPI's memory (int8 and timestamptz are by reference on
 * some platforms), so they outlive SPI_freetuptable() and SPI_finish().
 */
static void
queue_metrics(PgmqQueue *q, int natts, Datum *values, bool *nulls, char *name_out)
{
	Datum		args[4];
	TupleDesc	desc;
	int			i;
	char	   *name = NULL;

	check_sequence_privilege(q->qrelid);
	args[0] = pgmq_seconds_from_now(0);
	args[1] = CStringGetTextDatum(q->name);
	args[2] = ObjectIdGetDatum(q->qrelid);
	args[3] = ObjectIdGetDatum(pgmq_table_oid("a", q->name));
	pgmq_run(q, natts == METRICS_NATTS ? &metrics_1_13_spec :
			 natts == METRICS_NATTS_1_1 ? &metrics_1_1_spec : &metrics_spec,
			 args, NULL);
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
	if (natts == METRICS_NATTS)
		name = SPI_getvalue(SPI_tuptable->vals[0], desc, natts);
	strlcpy(name_out, name != NULL ? name : q->name, NAMEDATALEN);
	nulls[0] = false;
	SPI_freetuptable(SPI_tuptable);
}

/* pgmq.metrics(queue_name text) RETURNS pgmq.metrics_result */
Datum
pgmq_metrics(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	TupleDesc	tupdesc;
	Datum		cols[METRICS_NATTS];
	bool		colnulls[METRICS_NATTS];
	Datum	   *values;
	bool	   *nulls;
	char		name[NAMEDATALEN];
	int64		expired = 0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pgmq: metrics must return a row type");
	pgmq_open_queue(fcinfo, 0, AccessShareLock, &q);
	pgmq_connect();
	queue_metrics(&q, metrics_natts(tupdesc), cols, colnulls, name);
	if (has_retention_col(tupdesc))
		expired = pgmq_retention_expired(&q);
	pgmq_finish();
	cols[0] = CStringGetTextDatum(name);
	values = palloc(sizeof(Datum) * tupdesc->natts);
	nulls = palloc(sizeof(bool) * tupdesc->natts);
	metrics_place(tupdesc, cols, colnulls, expired, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/* metrics_all: one queue's row into the caller's tuplestore. */
static void
metrics_all_visit(PgmqQueue *q, void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	TupleDesc	desc = rsinfo->setDesc;
	Datum		cols[METRICS_NATTS];
	bool		colnulls[METRICS_NATTS];
	Datum	   *values;
	bool	   *nulls;
	char		shown[NAMEDATALEN];
	int64		expired = 0;

	if (RecoveryInProgress() &&
		get_rel_persistence(q->qrelid) == RELPERSISTENCE_UNLOGGED)
		return;					/* unreadable on a standby: skip */
	queue_metrics(q, metrics_natts(desc), cols, colnulls, shown);
	if (has_retention_col(desc))
		expired = pgmq_retention_expired(q);
	cols[0] = CStringGetTextDatum(shown);
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	metrics_place(desc, cols, colnulls, expired, values, nulls);
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
