/*
 * priority.c
 *	  Message priorities: pgmq.enable_priorities, pgmq.disable_priorities,
 *	  the check of x-pgmq-priority at send, and the read and pop paths of a
 *	  prioritised queue.
 *
 * A queue is prioritised while it has the index q_<name>_prio_idx on
 * (PRIO(headers), vt, msg_id), where PRIO is the header x-pgmq-priority as
 * an integer (a jsonb cast: cheap to compute on every insert and update),
 * 0 when absent, clamped to 0-9 so that no message can fall outside the ten
 * ranges a read scans.  Sends check the header first (22023), and
 * enable_priorities refuses a queue holding a message whose header is not a
 * JSON number.  The table's layout does not change.  Whether the index exists is cached in the queue's PgmqQueueState
 * (creating or dropping an index invalidates the table's relcache entry).
 *
 * Read order on a prioritised queue: every visible message of a higher
 * priority before any of a lower one; within one priority, (vt, msg_id).
 * The pick walks the priorities from 9 down to 0, and for each runs the
 * plain read's range scan, bounded by vt <= now, on that priority's part of
 * the index (so a read costs at most 10 index probes more than a plain
 * read, and never walks an in-flight or delayed message), locking SKIP
 * LOCKED only the rows it returns: the outer LIMIT stops the walk as soon
 * as the batch is full.  All plans are fixed (nested loops over index scans).
 *
 * A queue with a message retention (retention.c) gets the same filter here:
 * $4 is the oldest enqueued_at delivered (-infinity without a retention).
 * A queue with a dead-letter policy keeps the dead-letter read path
 * (consume.c tries that first): its reads ignore priorities.
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_enable_priorities);
PG_FUNCTION_INFO_V1(pgmq_disable_priorities);

#define PRIORITY_HEADER "x-pgmq-priority"

/* The priority of a row; the index expression is exactly this text. */
#define PRIO(t) \
	"LEAST(GREATEST(COALESCE((" t "headers OPERATOR(pg_catalog.->) '" PRIORITY_HEADER "')" \
	"::pg_catalog.int4, 0), 0), 9)"

/*
 * The ids of up to $1 visible messages, highest priority first, then by
 * (vt, msg_id), locked; $3 now, $4 oldest enqueued_at delivered.  A nested
 * loop over the priorities 9..0 (in that order) runs, for each, a range
 * scan of q_<name>_prio_idx from (p, -infinity) to (p, now); the outer
 * LIMIT stops it once the batch is full, so only the rows returned are
 * locked.  The bound on vt is written as the row comparison
 * (PRIO, vt) <= (p, now), which only the priority index can use: with a
 * plain "vt <= now" the planner may prefer the vt index plus a filter on
 * the priority, which walks every visible message of the other priorities.
 * (One index scan node rescanned per priority: a UNION ALL of ten branches
 * costs ten index scans to set up on every call.)
 */
#define PICK(filter) \
	"SELECT l.msg_id FROM pg_catalog.unnest('{9,8,7,6,5,4,3,2,1,0}'::pg_catalog.int4[]) AS p(prio)" \
	" CROSS JOIN LATERAL (SELECT msg_id FROM %1$s" \
	"  WHERE " PRIO("") " OPERATOR(pg_catalog.=) p.prio" \
	"  AND (" PRIO("") ", vt) OPERATOR(pg_catalog.<=) (p.prio, $3)" \
	"  AND enqueued_at OPERATOR(pg_catalog.>=) $4" filter \
	"  ORDER BY vt, msg_id LIMIT $1 FOR UPDATE SKIP LOCKED) l LIMIT $1"
#define BY_MANY(filter) \
	" pg_catalog.unnest(ARRAY(" PICK(filter) ")) WITH ORDINALITY AS c(msg_id, n)" \
	" WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", c.n"
#define READ_SQL(filter) \
	PGMQ_FIXED_PLAN "UPDATE %1$s m SET vt = $2," \
	" read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3 FROM" BY_MANY(filter)

/* read: $1 qty, $2 new vt, $3 now, $4 oldest enqueued_at, [$5 conditional] */
static const PgmqPlanSpec read_spec = {
	READ_SQL(""), 4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec read_cond_spec = {
	READ_SQL(" AND message OPERATOR(pg_catalog.@>) $5"),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID}
};

/* pop: $1 qty, $2 unused, $3 now, $4 oldest enqueued_at */
static const PgmqPlanSpec pop_spec = {
	PGMQ_FIXED_PLAN "DELETE FROM %1$s m USING" BY_MANY(""),
	4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static char *
prio_index_name(const char *name)
{
	return psprintf("q_%s_prio_idx", name);
}

/* Is open queue q prioritised?  (Cached until invalidated.) */
bool
pgmq_priority_applies(PgmqQueue *q)
{
	PgmqQueueState *st = pgmq_queue_state(q);

	if (!st->prio_known)
	{
		char	   *idxname = prio_index_name(q->name);
		Oid			idx = get_relname_relid(idxname, pgmq_namespace_oid(false));

		st->has_prio_index = OidIsValid(idx) && IndexGetRelation(idx, true) == q->qrelid;
		st->prio_known = true;
		pfree(idxname);
	}
	return st->has_prio_index;
}

/* Refuse headers h whose x-pgmq-priority is present but not an integer 0-9. */
static void
check_priority(Jsonb *h)
{
	JsonbValue	v;
	bool		ok = false;

	if (h == NULL || !JB_ROOT_IS_OBJECT(h))
		return;
	if (getKeyJsonValueFromContainer(&h->root, PRIORITY_HEADER, strlen(PRIORITY_HEADER), &v) == NULL)
		return;
	if (v.type == jbvNumeric)
	{
		char	   *s = DatumGetCString(DirectFunctionCall1(numeric_out,
															NumericGetDatum(v.val.numeric)));

		ok = (strlen(s) == 1 && s[0] >= '0' && s[0] <= '9');
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header " PRIORITY_HEADER " must be an integer from 0 to 9")));
}

/* Before a send of a to open queue q: check the priorities of its messages. */
void
pgmq_priority_check_send(PgmqQueue *q, const PgmqSendArgs *a)
{
	if (a->headers_null || !pgmq_priority_applies(q))
		return;
	if (!a->batch)
		check_priority(DatumGetJsonbP(a->headers));
	else
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		deconstruct_array(DatumGetArrayTypeP(a->headers), JSONBOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				check_priority(DatumGetJsonbP(elems[i]));
	}
}

/* The oldest enqueued_at a read of q may deliver at now. */
static TimestampTz
oldest_delivered(PgmqQueue *q, TimestampTz now)
{
	TimestampTz oldest;

	if (pgmq_retention_cutoff(q, now, &oldest))
		return oldest;
	return DT_NOBEGIN;
}

/*
 * A read (qty, vt seconds, jsonb conditional or 0) of prioritised queue q;
 * rows go into fcinfo's tuplestore in read order.  Returns how many.
 */
uint64
pgmq_priority_read(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty, int32 vt,
				   Datum conditional)
{
	TimestampTz now = GetCurrentTimestamp();
	Datum		values[5];
	uint64		n;

	values[0] = Int32GetDatum(qty);
	values[1] = TimestampTzGetDatum(now + (TimestampTz) vt * USECS_PER_SEC);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(oldest_delivered(q, now));
	values[4] = conditional;
	n = pgmq_run(q, conditional != (Datum) 0 ? &read_cond_spec : &read_spec, values, NULL);
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* pop of qty messages of prioritised queue q, in read order. */
uint64
pgmq_priority_pop(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty)
{
	TimestampTz now = GetCurrentTimestamp();
	Datum		values[4];
	uint64		n;

	values[0] = Int32GetDatum(qty);
	values[1] = TimestampTzGetDatum(now);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(oldest_delivered(q, now));
	n = pgmq_run(q, &pop_spec, values, NULL);
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* pgmq.enable_priorities(queue_name text) RETURNS void */
Datum
pgmq_enable_priorities(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	char	   *idxname;

	/* ShareLock, as CREATE INDEX takes: sends wait for the build */
	pgmq_open_queue(fcinfo, 0, ShareLock, &q);
	idxname = prio_index_name(q.name);
	pgmq_connect();
	/* the index expression casts the header: no message may make it fail */
	pgmq_run_sql(psprintf("SELECT pg_catalog.count(*) FROM %s WHERE pg_catalog.jsonb_typeof("
						  "headers OPERATOR(pg_catalog.->) '" PRIORITY_HEADER "')"
						  " OPERATOR(pg_catalog.<>) 'number'",
						  pgmq_qualified_table("q", q.name)),
				 SPI_OK_SELECT, 0, NULL, NULL, NULL);
	{
		bool		isnull;
		int64		bad = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													  SPI_tuptable->tupdesc, 1, &isnull));

		if (bad > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("queue \"%s\" has " INT64_FORMAT " message(s) whose header "
							PRIORITY_HEADER " is not a number", q.name, bad),
					 errhint("Delete or archive them, or send them again without the header.")));
	}
	pgmq_run_sql(psprintf("CREATE INDEX IF NOT EXISTS %s ON %s ((" PRIO("") "), vt, msg_id)",
						  quote_identifier(idxname), pgmq_qualified_table("q", q.name)),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_finish();
	PG_RETURN_VOID();
}

/* pgmq.disable_priorities(queue_name text) RETURNS boolean: was it prioritised */
Datum
pgmq_disable_priorities(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	bool		had;

	pgmq_open_queue(fcinfo, 0, AccessExclusiveLock, &q);
	pgmq_connect();
	had = pgmq_priority_applies(&q);
	if (had)
		pgmq_run_sql(psprintf("DROP INDEX %s",
							  quote_qualified_identifier("pgmq", prio_index_name(q.name))),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_finish();
	PG_RETURN_BOOL(had);
}
