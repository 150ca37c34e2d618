/*
 * spi_util.c
 *	  Running SQL through SPI and handing rows back to the caller (argument
 *	  checks are in args.c), plus the queue name lock of create/drop_queue.
 *
 * Set-returning entry points call pgmq_init_srf() before connecting to SPI:
 * the tuplestore then lives in the per-query context, and pgmq_emit_rows()
 * copies SPI's rows into it, so nothing of SPI's memory outlives SPI_finish().
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "common/hashfn.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "nodes/params.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pgmq.h"

/* A bigint[] Datum of the n values v (a statement parameter of message ids). */
Datum
pgmq_int8_array(const int64 *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/* SPI_connect, with an error if it fails. */
void
pgmq_connect(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "pgmq: SPI_connect failed: %s", SPI_result_code_string(rc));
}

/* SPI_finish, with an error if it fails. */
void
pgmq_finish(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "pgmq: SPI_finish failed: %s", SPI_result_code_string(rc));
}

/*
 * An UPDATE or DELETE leaves a dead row version per row processed: tell the
 * queue vacuum worker (statements that delete in a CTE under another
 * top-level command, like archive, report for themselves).
 */
static inline void
note_consumed(int rc)
{
	if (rc == SPI_OK_UPDATE || rc == SPI_OK_DELETE ||
		rc == SPI_OK_UPDATE_RETURNING || rc == SPI_OK_DELETE_RETURNING)
		pgmq_vacuum_note_consumed(SPI_processed);
}

/*
 * Execute the kept plan of spec for queue q; returns the number of rows
 * processed (rows are in SPI_tuptable for statements with RETURNING).
 */
uint64
pgmq_run(PgmqQueue *q, const PgmqPlanSpec *spec, Datum *values, const char *nulls)
{
	SPIPlanPtr	plan = pgmq_plan(q, spec);
	int			rc = SPI_execute_plan(plan, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "pgmq: executing a plan for queue \"%s\" failed: %s",
			 q->name, SPI_result_code_string(rc));
	note_consumed(rc);
	return SPI_processed;
}

/*
 * Execute the kept plan of spec for queue q and send its rows straight into
 * the tuplestore of the calling set-returning function (set up by
 * pgmq_init_srf), whose row type they must match; returns the row count.
 * Cheaper than pgmq_run() + pgmq_emit_rows(): the rows are copied once.
 */
uint64
pgmq_run_into(FunctionCallInfo fcinfo, PgmqQueue *q, const PgmqPlanSpec *spec,
			  Datum *values, const char *nulls)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SPIPlanPtr	plan = pgmq_plan(q, spec);
	SPIExecuteOptions options;
	ParamListInfo params = makeParamList(spec->nargs);
	DestReceiver *dest = CreateDestReceiver(DestTuplestore);
	int			i;
	int			rc;

	for (i = 0; i < spec->nargs; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = (nulls != NULL && nulls[i] == 'n');
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = spec->argtypes[i];
	}
	SetTuplestoreDestReceiverParams(dest, rsinfo->setResult,
									rsinfo->econtext->ecxt_per_query_memory,
									false, rsinfo->setDesc,
									"pgmq: query result does not match the function's row type");
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.dest = dest;
	rc = SPI_execute_plan_extended(plan, &options);
	if (rc < 0)
		elog(ERROR, "pgmq: executing a plan for queue \"%s\" failed: %s",
			 q->name, SPI_result_code_string(rc));
	dest->rDestroy(dest);
	note_consumed(rc);
	return SPI_processed;
}

/* Run one-off SQL (admin paths); rc must equal expected unless expected is 0. */
void
pgmq_run_sql(const char *sql, int expected, int nargs, Oid *argtypes,
			 Datum *values, const char *nulls)
{
	int			rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls,
										   false, 0);

	if (rc < 0 || (expected != 0 && rc != expected))
		elog(ERROR, "pgmq: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

/* Set up materialize-mode output with the caller's expected row type. */
void
pgmq_init_srf(FunctionCallInfo fcinfo)
{
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
}

/* One row of an ordinal-ordered result: its position and its index in SPI_tuptable. */
typedef struct OrdinalRow
{
	int64		ordinal;
	uint64		index;
} OrdinalRow;

static int
ordinal_row_cmp(const void *a, const void *b)
{
	int64		x = ((const OrdinalRow *) a)->ordinal;
	int64		y = ((const OrdinalRow *) b)->ordinal;

	return (x > y) - (x < y);
}

/*
 * Copy every row of SPI_tuptable into the caller's tuplestore.  The query
 * may return one trailing bigint column more than the function's row type:
 * the rows are then emitted in the order of that column, without it (so a
 * DML statement, whose RETURNING has no ORDER BY, can hand back its rows in
 * a promised order without a wrapping CTE and sort).
 */
void
pgmq_emit_rows(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SPITupleTable *tt = SPI_tuptable;
	int			natts = rsinfo->setDesc->natts;
	bool		ordinal;
	OrdinalRow *rows;
	Datum	   *values;
	bool	   *nulls;
	uint64		i;
	int			a;

	if (tt == NULL || SPI_processed == 0)
		return;
	ordinal = (tt->tupdesc->natts == natts + 1 &&
			   TupleDescAttr(tt->tupdesc, natts)->atttypid == INT8OID);
	if (tt->tupdesc->natts != natts && !ordinal)
		elog(ERROR, "pgmq: query returned %d columns, function returns %d",
			 tt->tupdesc->natts, natts);
	for (a = 0; a < natts; a++)
	{
		if (TupleDescAttr(tt->tupdesc, a)->atttypid !=
			TupleDescAttr(rsinfo->setDesc, a)->atttypid)
			elog(ERROR, "pgmq: column %d of query has the wrong type", a + 1);
	}
	if (!ordinal)
	{
		for (i = 0; i < SPI_processed; i++)
			tuplestore_puttuple(rsinfo->setResult, tt->vals[i]);
		return;
	}

	rows = palloc(sizeof(OrdinalRow) * SPI_processed);
	values = palloc(sizeof(Datum) * (natts + 1));
	nulls = palloc(sizeof(bool) * (natts + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		rows[i].ordinal = DatumGetInt64(heap_getattr(tt->vals[i], natts + 1,
													 tt->tupdesc, &isnull));
		rows[i].index = i;
	}
	if (SPI_processed > 1)
		qsort(rows, SPI_processed, sizeof(OrdinalRow), ordinal_row_cmp);
	for (i = 0; i < SPI_processed; i++)
	{
		heap_deform_tuple(tt->vals[rows[i].index], tt->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(rows);
	pfree(values);
	pfree(nulls);
}

/*
 * The transaction-scoped lock create/drop_queue take for a queue: an advisory
 * lock on hashtext('pgmq.queue_' || name), as the PL/pgSQL pgmq takes it.
 */
void
pgmq_acquire_name_lock(const char *name)
{
	char	   *key = psprintf("pgmq.queue_%s", name);
	int32		h = (int32) hash_bytes((const unsigned char *) key, strlen(key));

	DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum((int64) h));
	pfree(key);
}

/*
 * Owner of the extension table pgmq.<relname>, or InvalidOid when there is
 * no such table.  Internal bookkeeping that every sender or consumer causes
 * (notify throttles, dead-letter counts) runs as this role, the way
 * PostgreSQL's foreign-key triggers act as the table owner, so callers need
 * no privilege on those tables and cannot write them directly.
 */
Oid
pgmq_extension_table_owner(const char *relname)
{
	Oid			relid = get_relname_relid(relname, pgmq_namespace_oid(false));
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		return InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "pgmq: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}
