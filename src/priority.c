/*
 * priority.c
 *	  Message priorities: pgmq.enable_priorities, pgmq.disable_priorities,
 *	  the check of x-pgmq-priority at send, and the read and pop paths of a
 *	  prioritised queue.
 *
 * A queue is prioritised while it has the index q_<name>_prio_idx on
 * (pgmq._message_priority(headers), vt, msg_id): the header x-pgmq-priority
 * as an integer, 0 when absent, clamped to 0-9 so that no message can fall
 * outside the ten ranges a read scans (a C function: cheap to prepare and
 * compute in every statement that inserts or updates a row).  Sends check the header first (22023), and
 * enable_priorities refuses a queue holding a message whose header is not a
 * JSON number.  The table's layout does not change.  Whether the index
 * exists, and its OID, are cached in the queue's PgmqQueueState (creating
 * or dropping an index invalidates the table's relcache entry).
 *
 * Read order on a prioritised queue: every visible message of a higher
 * priority before any of a lower one; within one priority, (vt, msg_id).
 * A read walks the priorities from 9 down to 0 until the batch is full.
 * For each, a probe of the priority index alone (index AM, no heap, no
 * statement: one descent) tells whether the range (p, -infinity) .. (p, now)
 * has an entry at all; only then does the priority get its statement.  The
 * priority this backend last delivered from gets its statement without a
 * probe, and when the index has no entry at all above it, one probe answers
 * for all the priorities above (the common cases: one priority in use, or
 * the highest one has a backlog); after that probe found entries above (of
 * messages in flight or delayed, say), the next reads skip it.  A statement has the plain read's shape
 * (one message: UPDATE ... WHERE msg_id = (pick)) with the pick a range
 * scan of that priority's part of the index bounded by vt <= now, locking
 * SKIP LOCKED only the rows it returns.  So a read runs one statement per
 * priority it takes messages from (one, for a single message, unless the
 * candidates are held by other readers), pays at most eleven index descents
 * for the probes, and never walks an in-flight or delayed message (a probe
 * reads at most one leaf page of index entries).  Plans are fixed (index scans, nested loops).
 * Each priority's statement takes its own snapshot: a message of a higher
 * priority committed while the read runs may be left for the next read, as
 * any message committed during a read may be.
 *
 * A queue with a message retention (retention.c) gets the same filter here:
 * $4 is the oldest enqueued_at delivered (-infinity without a retention).
 * A queue with a dead-letter policy reads through dead_letter_move.c's
 * statement, one priority at a time, in the same walk.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "pg_compat.h"
#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_enable_priorities);
PG_FUNCTION_INFO_V1(pgmq_disable_priorities);
PG_FUNCTION_INFO_V1(pgmq_message_priority);

#define PRIORITY_HEADER "x-pgmq-priority"

/*
 * The priority of a row; the index expression is exactly this text: one
 * call of a C function (pgmq._message_priority below), so that every
 * statement that maintains the index (each read updates vt) prepares a
 * one-node expression, not a tree of casts and comparisons.
 */
#define PRIO(t) PGMQ_PRIO(t)

/*
 * The ids of up to "limit" visible messages of priority $5, in (vt, msg_id)
 * order, locked; $3 now, $4 oldest enqueued_at delivered.  One range scan of
 * q_<name>_prio_idx from ($5, -infinity) to ($5, now), as the plain read
 * scans the vt index up to now.  The bound on vt is written as the row
 * comparison (PRIO, vt) <= ($5, now), which only the priority index can
 * use: with a plain "vt <= now" the planner may prefer the vt index plus a
 * filter on the priority, which walks every visible message of the other
 * priorities.
 */
#define PICK(filter, limit) \
	"SELECT msg_id FROM %1$s" \
	" WHERE " PRIO("") " OPERATOR(pg_catalog.=) $5" \
	" AND (" PRIO("") ", vt) OPERATOR(pg_catalog.<=) ($5, $3)" \
	" AND enqueued_at OPERATOR(pg_catalog.>=) $4" filter \
	" ORDER BY vt, msg_id LIMIT " limit " FOR UPDATE SKIP LOCKED"
#define BY_MANY(filter) \
	" pg_catalog.unnest(ARRAY(" PICK(filter, "$1") ")) WITH ORDINALITY AS c(msg_id, n)" \
	" WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", c.n"
/* one message ($1 is then unused): no array, no ordinality, no reordering */
#define BY_ONE(filter) \
	" WHERE m.msg_id OPERATOR(pg_catalog.=) (" PICK(filter, "1") ")" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS
#define READ_SET \
	PGMQ_FIXED_PLAN "UPDATE %1$s m SET vt = $2," \
	" read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3"
#define COND " AND message OPERATOR(pg_catalog.@>) $6"

/* read: $1 qty, $2 new vt, $3 now, $4 oldest enqueued_at, $5 priority, [$6 conditional] */
static const PgmqPlanSpec read_spec = {
	READ_SET " FROM" BY_MANY(""),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}
};

static const PgmqPlanSpec read_one_spec = {
	READ_SET BY_ONE(""),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}
};

static const PgmqPlanSpec read_cond_spec = {
	READ_SET " FROM" BY_MANY(COND),
	6, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, JSONBOID}
};

static const PgmqPlanSpec read_one_cond_spec = {
	READ_SET BY_ONE(COND),
	6, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, JSONBOID}
};

/* pop: $1 qty, $2 unused, $3 now, $4 oldest enqueued_at, $5 priority */
static const PgmqPlanSpec pop_spec = {
	PGMQ_FIXED_PLAN "DELETE FROM %1$s m USING" BY_MANY(""),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}
};

static const PgmqPlanSpec pop_one_spec = {
	PGMQ_FIXED_PLAN "DELETE FROM %1$s m" BY_ONE(""),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}
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
		st->prio_index = pgmq_queue_index_oid(q->name, "prio_idx", q->qrelid);
		st->has_prio_index = OidIsValid(st->prio_index);
		st->prio_known = true;
	}
	return st->has_prio_index;
}

/*
 * The priority headers h give (see pgmq_message_priority below): 0 without
 * x-pgmq-priority, the number clamped to 0-9, 22023 for another value.
 */
static int32
header_priority(Jsonb *h)
{
	JsonbValue	v;
	Datum		n;

	if (!JB_ROOT_IS_OBJECT(h) ||
		getKeyJsonValueFromContainer(&h->root, PRIORITY_HEADER, strlen(PRIORITY_HEADER), &v) == NULL)
		return 0;
	if (v.type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header " PRIORITY_HEADER " must be a number")));
	n = NumericGetDatum(v.val.numeric);
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, n,
										  DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) < 0)
		return 0;
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, n,
										  DirectFunctionCall1(int4_numeric, Int32GetDatum(9)))) > 0)
		return 9;
	return DatumGetInt32(DirectFunctionCall1(numeric_int4, n));
}

/*
 * pgmq._message_priority(headers jsonb) RETURNS integer, IMMUTABLE: the
 * priority of a message with these headers: x-pgmq-priority as an integer
 * (a JSON number, rounded as numeric to integer rounds), clamped to 0-9;
 * 0 when the headers are NULL, not an object, or lack the key.  A value that
 * is present but not a number is an error (22023): enable_priorities
 * refuses queues holding one, and sends check the header first.  It also
 * counts the entry for priority_hint.c (a side effect on shared counters
 * only: the result depends on the argument alone, as IMMUTABLE says).
 */
Datum
pgmq_message_priority(PG_FUNCTION_ARGS)
{
	int32		p = 0;

	if (!PG_ARGISNULL(0))
		p = header_priority(PG_GETARG_JSONB_P(0));
	/* evaluated for every entry inserted into a priority index */
	pgmq_prio_note_entry(p);
	PG_RETURN_INT32(p);
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
 * Which priorities may have a visible message: a scan of the priority index
 * alone (no heap access, no snapshot: an entry of any row version counts),
 * opened once per read and rescanned per priority.  A priority without an
 * entry in (p, -infinity) .. (p, now) has no visible message, so its
 * statement is skipped; one with an entry (perhaps of a dead row version or
 * a locked message) gets its statement, which decides.  A message sent
 * while the read runs may be seen or not, as with any read it overlaps.
 *
 * A probe that finds nothing leaves a hint (priority_hint.c): the vt of the
 * priority's first entry, which the scan compared with now and found later.
 * The comparison of the vt key is vt_le_noting below (timestamptz <=, noting
 * the smallest vt it is asked about): the scan starts at p's first entry and
 * stops at the first that fails "vt <= now", so when it returns nothing, the
 * first entry of p was compared (other comparisons only lower the note).
 */
typedef struct PrioProbe
{
	PgmqQueue  *q;
	bool		open;			/* heap, index and scan are open */
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	TimestampTz now;
	ScanKeyData keys[2];		/* priority = p, vt <= now (noting) */
	ScanKeyData above[2];		/* priority > p, vt <= infinity (always true) */
} PrioProbe;

/* the smallest vt vt_le_noting compared during the current probe */
static TimestampTz probe_first_vt;

static Datum
vt_le_noting(PG_FUNCTION_ARGS)
{
	TimestampTz vt = PG_GETARG_TIMESTAMPTZ(0);

	if (vt < probe_first_vt)
		probe_first_vt = vt;
	PG_RETURN_BOOL(vt <= PG_GETARG_TIMESTAMPTZ(1));
}

static void
probe_begin(PrioProbe *pp, PgmqQueue *q, TimestampTz now)
{
	pp->q = q;
	pp->open = false;
	pp->now = now;
}

/* Open the index scan: on the first probe that hints do not answer. */
static void
probe_open(PrioProbe *pp)
{
	FmgrInfo	noting;

	if (pp->open)
		return;
	pp->heap = table_open(pp->q->qrelid, NoLock);	/* locked by the caller */
	/* the lock the statements' UPDATE or DELETE takes on it anyway */
	pp->index = index_open(pgmq_queue_state(pp->q)->prio_index, RowExclusiveLock);
	MemSet(&noting, 0, sizeof(noting));
	noting.fn_addr = vt_le_noting;
	noting.fn_oid = F_TIMESTAMP_LE;
	noting.fn_nargs = 2;
	noting.fn_strict = true;
	noting.fn_mcxt = CurrentMemoryContext;
	ScanKeyInit(&pp->keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(0));
	ScanKeyEntryInitializeWithInfo(&pp->keys[1], 0, 2, BTLessEqualStrategyNumber,
								   TIMESTAMPTZOID, InvalidOid, &noting,
								   TimestampTzGetDatum(pp->now));
	ScanKeyInit(&pp->above[0], 1, BTGreaterStrategyNumber, F_INT4GT, Int32GetDatum(0));
	ScanKeyInit(&pp->above[1], 2, BTLessEqualStrategyNumber, F_TIMESTAMP_LE,
				TimestampTzGetDatum(DT_NOEND));
	pp->scan = pgmq_index_beginscan(pp->heap, pp->index, SnapshotAny, 2);
	pp->open = true;
}

/*
 * May priority p have a visible message?  A hint that still holds answers
 * without a descent; a descent that answers "no" leaves one.
 */
static bool
probe(PrioProbe *pp, PgmqQueueState *st, int p)
{
	uint64		epoch;

	if (pgmq_prio_hint_holds(st, p, pp->now))
		return false;
	epoch = pgmq_prio_epoch(p);
	probe_open(pp);
	probe_first_vt = DT_NOEND;
	pp->keys[0].sk_argument = Int32GetDatum(p);
	index_rescan(pp->scan, pp->keys, 2, NULL, 0);
	if (index_getnext_tid(pp->scan, ForwardScanDirection) != NULL)
		return true;
	pgmq_prio_hint_set(st, p, epoch, probe_first_vt);
	return false;
}

/*
 * Has the index any entry (visible or not) of a priority above p?  When it
 * has none, the priorities above p need no probe each: one descent that
 * lands past the last entry answers for all of them (and leaves a hint for
 * each).  Hints that hold for all of them answer without the descent.
 */
static bool
probe_above(PrioProbe *pp, PgmqQueueState *st, int p)
{
	uint64		epochs[PGMQ_PRIORITY_LEVELS];
	int			i;
	bool		all_hinted = true;

	for (i = p + 1; i < PGMQ_PRIORITY_LEVELS; i++)
	{
		epochs[i] = pgmq_prio_epoch(i);
		if (!pgmq_prio_hint_holds(st, i, pp->now))
			all_hinted = false;
	}
	if (all_hinted)
		return false;
	probe_open(pp);
	pp->above[0].sk_argument = Int32GetDatum(p);
	index_rescan(pp->scan, pp->above, 2, NULL, 0);
	if (index_getnext_tid(pp->scan, ForwardScanDirection) != NULL)
		return true;
	for (i = p + 1; i < PGMQ_PRIORITY_LEVELS; i++)
		pgmq_prio_hint_set(st, i, epochs[i], DT_NOEND);
	return false;
}

/* Reads that skip probe_above after it found entries above the hint. */
#define PRIO_ABOVE_SKIP 15

static void
probe_end(PrioProbe *pp)
{
	if (!pp->open)
		return;
	index_endscan(pp->scan);
	index_close(pp->index, NoLock);
	table_close(pp->heap, NoLock);
}

/*
 * How a read takes up to want messages of priority p of queue q into
 * fcinfo's tuplestore, in (vt, msg_id) order; returns how many.
 */
typedef uint64 (*TakeFn) (FunctionCallInfo fcinfo, PgmqQueue *q, int p, int32 want, void *arg);

/*
 * Take up to qty messages of prioritised queue q in read order: for each
 * priority from 9 down to 0 that may have a visible message, take what is
 * still missing from that priority.  Returns how many were taken.
 */
static uint64
take_by_priority(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty, TimestampTz now,
				 TakeFn take, void *arg)
{
	PgmqQueueState *st = pgmq_queue_state(q);
	int			last = st->prio_last - 1;	/* -1: none */
	PrioProbe	pp;
	uint64		total = 0;
	int			p;

	probe_begin(&pp, q, now);

	/*
	 * Nothing above the last priority delivered from (or at all): start
	 * there.  When there was something above it (in flight or delayed, say),
	 * the next PRIO_ABOVE_SKIP reads go straight to the probes of each
	 * priority: probe_above then reads a leaf page of entries for nothing.
	 */
	p = 9;
	if (last < 9)
	{
		if (st->prio_above_skip > 0)
			st->prio_above_skip--;
		else if (!probe_above(&pp, st, last))
			p = last;
		else
			st->prio_above_skip = PRIO_ABOVE_SKIP;
	}
	for (; p >= 0 && total < (uint64) qty; p--)
	{
		uint64		n;

		/*
		 * The priority this backend last delivered from is likely to have
		 * visible messages still: its statement runs without a probe (which
		 * would read its whole first leaf page of entries for nothing).
		 */
		if (p != last && !probe(&pp, st, p))
			continue;
		n = take(fcinfo, q, p, qty - (int32) total, arg);
		if (n > 0)
			st->prio_last = (int8) (p + 1);
		else if (p == last)
			st->prio_last = 0;	/* stale: probe it like the others next time */
		total += n;
	}
	probe_end(&pp);
	return total;
}

/* What take_by_specs needs: the statements and their parameters. */
typedef struct SpecTake
{
	Datum	   *values;			/* [0] qty and [4] priority are set per call */
	const PgmqPlanSpec *one;	/* for a single message */
	const PgmqPlanSpec *many;
} SpecTake;

/* TakeFn of read and pop: one statement. */
static uint64
take_by_specs(FunctionCallInfo fcinfo, PgmqQueue *q, int p, int32 want, void *arg)
{
	SpecTake   *t = (SpecTake *) arg;
	uint64		n;

	t->values[0] = Int32GetDatum(want);
	t->values[4] = Int32GetDatum(p);
	if (want == 1)
		return pgmq_run_into(fcinfo, q, t->one, t->values, NULL);
	n = pgmq_run(q, t->many, t->values, NULL);
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	SPI_tuptable = NULL;
	return n;
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
	Datum		values[6];
	SpecTake	t = {values, &read_one_spec, &read_spec};

	values[1] = TimestampTzGetDatum(now + (TimestampTz) vt * USECS_PER_SEC);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(oldest_delivered(q, now));
	values[5] = conditional;
	if (conditional != (Datum) 0)
	{
		t.one = &read_one_cond_spec;
		t.many = &read_cond_spec;
	}
	return take_by_priority(fcinfo, q, qty, now, take_by_specs, &t);
}

/* pop of qty messages of prioritised queue q, in read order. */
uint64
pgmq_priority_pop(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty)
{
	TimestampTz now = GetCurrentTimestamp();
	Datum		values[5];
	SpecTake	t = {values, &pop_one_spec, &pop_spec};

	values[1] = TimestampTzGetDatum(now);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(oldest_delivered(q, now));
	return take_by_priority(fcinfo, q, qty, now, take_by_specs, &t);
}

/* What take_dead_letter needs. */
typedef struct DeadLetterTake
{
	PgmqDeadLetter *dl;
	int32		vt;
	Datum		conditional;
} DeadLetterTake;

/* TakeFn of a read with a dead-letter policy: dead_letter_move.c's rounds, one priority. */
static uint64
take_dead_letter(FunctionCallInfo fcinfo, PgmqQueue *q, int p, int32 want, void *arg)
{
	DeadLetterTake *t = (DeadLetterTake *) arg;

	return pgmq_dead_letter_read(fcinfo, q, t->dl, want, t->vt, t->conditional, p);
}

/*
 * A read of prioritised queue q with dead-letter policy dl: in priority
 * order, moving poison messages of each priority as a read without
 * priorities does (a message is moved when the read reaches its priority).
 */
uint64
pgmq_priority_dead_letter_read(FunctionCallInfo fcinfo, PgmqQueue *q, PgmqDeadLetter *dl,
							   int32 qty, int32 vt, Datum conditional)
{
	DeadLetterTake t = {dl, vt, conditional};

	return take_by_priority(fcinfo, q, qty, GetCurrentTimestamp(), take_dead_letter, &t);
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

/* ---- Exported for fifo.c: grouped reads on a prioritised queue ---- */

/*
 * The priority of a stored message whose headers are the jsonb Datum
 * headers (isnull: no headers), as pgmq._message_priority computes it, but
 * without counting an index entry for priority_hint.c: for code that only
 * compares the priorities of messages it read (fifo.c orders groups by
 * their heads'), so that it does not wear out other backends' hints.
 */
int32
pgmq_headers_priority(Datum headers, bool isnull)
{
	return isnull ? 0 : header_priority(DatumGetJsonbP(headers));
}
