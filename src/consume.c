/*
 * consume.c
 *	  Consuming: pgmq.read, pgmq.read_with_poll, pgmq.pop and the four
 *	  pgmq.set_vt overloads.
 *
 * The read path takes visible messages (vt <= now, "now" passed in as a
 * parameter so it can bound an index scan) in (vt, msg_id) order from the
 * q_<name>_vt_idx index, locks them FOR UPDATE SKIP LOCKED, and in the same
 * statement hides them until now + vt.  Messages that are in flight or
 * delayed have vt > now and so lie outside the scanned index range: a read
 * never walks them, however many there are.
 *
 * A queue with a dead-letter policy reads through dead_letter.c instead (the
 * same plan shape, plus the move of poison messages); queues without one pay
 * a cached flag test.
 *
 * Ordering promise: messages come back in the order they became visible,
 * ties broken by msg_id; messages sent one after another without delay are
 * therefore read in send order.
 *
 * Start position: read and pop first let read_scan.c move the queue's start
 * position past its committed-dead head, and their statement scans only
 * vt >= pgmq._horizon_start(queue table) (docs/horizon.md): while the MVCC
 * horizon is pinned, a read then does not step over every message consumed
 * since.  Statements that write versions (read, set_vt) state the lowest vt
 * they write, so that horizon.c moves the start back only as far as needed.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_read);
PG_FUNCTION_INFO_V1(pgmq_read_with_poll);
PG_FUNCTION_INFO_V1(pgmq_pop);
PG_FUNCTION_INFO_V1(pgmq_set_vt);
PG_FUNCTION_INFO_V1(pgmq_set_vt_at);
PG_FUNCTION_INFO_V1(pgmq_set_vt_ids);
PG_FUNCTION_INFO_V1(pgmq_set_vt_ids_at);

/*
 * The ids of up to "limit" visible messages, in read order, locked; "now"
 * is the parameter holding the current time.  START(param) is the filter
 * that begins the scan at the queue's start position, param being the
 * queue table's OID.
 */
#define PICK_SQL(now, filter, limit) \
	"SELECT msg_id FROM %1$s WHERE vt OPERATOR(pg_catalog.<=) " now filter \
	" ORDER BY vt, msg_id LIMIT " limit " FOR UPDATE SKIP LOCKED"
#define START(param) " AND vt OPERATOR(pg_catalog.>=) pgmq._horizon_start(" param ")"

/*
 * Taking one message needs no order restored: the statement is the plain
 * "UPDATE/DELETE ... WHERE msg_id = (pick)".  Taking several joins the
 * picked ids WITH ORDINALITY and returns the position as an 8th column, by
 * which pgmq_emit_rows() puts the rows back in read order.
 */
#define BY_ONE(now, filter) \
	" WHERE m.msg_id OPERATOR(pg_catalog.=) (" PICK_SQL(now, filter, "1") ")" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS
#define BY_MANY(join, now, filter) \
	" " join " pg_catalog.unnest(ARRAY(" PICK_SQL(now, filter, "$1") "))" \
	" WITH ORDINALITY AS c(msg_id, n)" \
	" WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", c.n"

/* read: hide the picked messages until $2; $1 qty, $3 now, $4 conditional */
#define READ_SET \
	PGMQ_FIXED_PLAN "UPDATE %1$s m SET vt = $2," \
	" read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3"
#define COND " AND message OPERATOR(pg_catalog.@>) $4"

/*
 * The plain reads scan from the beginning of the index (pgmq_read_spec is
 * shared with other read paths); the _start ones begin at the queue's start
 * position, the queue table's OID being their last parameter (unused by the
 * plain ones, so both take the same values).
 */
const PgmqPlanSpec pgmq_read_spec = {
	READ_SET BY_MANY("FROM", "$3", ""),
	3, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec read_one_plain_spec = {
	READ_SET BY_ONE("$3", ""),
	3, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec read_cond_plain_spec = {
	READ_SET BY_MANY("FROM", "$3", COND),
	4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID}
};

static const PgmqPlanSpec read_one_cond_plain_spec = {
	READ_SET BY_ONE("$3", COND),
	4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID}
};

static const PgmqPlanSpec read_many_spec = {
	READ_SET BY_MANY("FROM", "$3", START("$4")),
	4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, OIDOID}
};

static const PgmqPlanSpec read_one_spec = {
	READ_SET BY_ONE("$3", START("$4")),
	4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, OIDOID}
};

static const PgmqPlanSpec read_cond_spec = {
	READ_SET BY_MANY("FROM", "$3", COND START("$5")),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID, OIDOID}
};

static const PgmqPlanSpec read_one_cond_spec = {
	READ_SET BY_ONE("$3", COND START("$5")),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID, OIDOID}
};

/* [uses the start position][one, many, one cond, many cond] */
static const PgmqPlanSpec *const read_specs[2][4] = {
	{&read_one_plain_spec, &pgmq_read_spec, &read_one_cond_plain_spec, &read_cond_plain_spec},
	{&read_one_spec, &read_many_spec, &read_one_cond_spec, &read_cond_spec}
};

/*
 * pop: delete and return the picked messages; $1 qty, $2 now, ($3 queue
 * table).  A deleted row keeps its vt, so several are put in read order by
 * sort_by_vt().
 */
#define POP_MANY(filter) \
	PGMQ_FIXED_PLAN "DELETE FROM %1$s m WHERE m.msg_id OPERATOR(pg_catalog.=) ANY (ARRAY(" \
	PICK_SQL("$2", filter, "$1") ")) RETURNING " PGMQ_M_MESSAGE_COLUMNS
#define POP_ONE(filter) PGMQ_FIXED_PLAN "DELETE FROM %1$s m" BY_ONE("$2", filter)

/* [uses the start position][one, many] */
static const PgmqPlanSpec pop_specs[2][2] = {
	{{POP_ONE(""), 2, {INT4OID, TIMESTAMPTZOID}},
	 {POP_MANY(""), 2, {INT4OID, TIMESTAMPTZOID}}},
	{{POP_ONE(START("$3")), 3, {INT4OID, TIMESTAMPTZOID, OIDOID}},
	 {POP_MANY(START("$3")), 3, {INT4OID, TIMESTAMPTZOID, OIDOID}}}
};

static const PgmqPlanSpec set_vt_spec = {
	PGMQ_FIXED_PLAN
	"WITH u AS (UPDATE %1$s SET vt = $2 WHERE msg_id OPERATOR(pg_catalog.=) ANY ($1)"
	" RETURNING " PGMQ_MESSAGE_COLUMNS ")"
	" SELECT " PGMQ_MESSAGE_COLUMNS " FROM u ORDER BY msg_id",
	2, {INT8ARRAYOID, TIMESTAMPTZOID}
};

/* Descriptor of the rows sort_by_vt() is sorting, for its comparator. */
static TupleDesc sort_desc;

/* qsort comparator of message_record tuples: by (vt, msg_id). */
static int
vt_msg_id_cmp(const void *a, const void *b)
{
	HeapTuple	x = *(HeapTuple const *) a;
	HeapTuple	y = *(HeapTuple const *) b;
	bool		isnull;
	TimestampTz vx = DatumGetTimestampTz(heap_getattr(x, 5, sort_desc, &isnull));
	TimestampTz vy = DatumGetTimestampTz(heap_getattr(y, 5, sort_desc, &isnull));
	int64		ix;
	int64		iy;

	if (vx != vy)
		return (vx > vy) - (vx < vy);
	ix = DatumGetInt64(heap_getattr(x, 1, sort_desc, &isnull));
	iy = DatumGetInt64(heap_getattr(y, 1, sort_desc, &isnull));
	return (ix > iy) - (ix < iy);
}

/* Put n message_record rows of tt in read order: by (vt, msg_id). */
static void
sort_by_vt(SPITupleTable *tt, uint64 n)
{
	if (tt == NULL || n < 2)
		return;
	sort_desc = tt->tupdesc;
	qsort(tt->vals, n, sizeof(HeapTuple), vt_msg_id_cmp);
}

/* Arguments of one read: what read and read_with_poll share. */
typedef struct ReadArgs
{
	int32		vt;
	int32		qty;
	Jsonb	   *conditional;	/* NULL when empty: no filter */
} ReadArgs;

/* Check vt (arg 1), qty (arg 2) and conditional (arg condno). */
static void
read_args(FunctionCallInfo fcinfo, int condno, ReadArgs *ra)
{
	Jsonb	   *cond;

	ra->vt = pgmq_nonneg_int_arg(fcinfo, 1, "vt");
	ra->qty = pgmq_positive_int_arg(fcinfo, 2, "qty");
	pgmq_require_arg(fcinfo, condno, "conditional");
	cond = PG_GETARG_JSONB_P(condno);
	ra->conditional = (JB_ROOT_IS_OBJECT(cond) && JB_ROOT_COUNT(cond) == 0) ? NULL : cond;
}

/*
 * One read attempt on an open queue, while connected to SPI: the messages
 * go into the caller's tuplestore, in read order.  Returns how many.  A
 * queue with a dead-letter policy reads through dead_letter.c, which moves
 * poison messages instead of delivering them.
 */
static uint64
read_once(FunctionCallInfo fcinfo, PgmqQueue *q, const ReadArgs *ra)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz new_vt = now + (TimestampTz) ra->vt * USECS_PER_SEC;
	Datum		values[5];
	const PgmqPlanSpec *spec;
	uint64		n;
	bool		start;
	PgmqDeadLetter dl;

	if (pgmq_dead_letter_open(q, &dl))
	{
		Datum		cond = ra->conditional ? JsonbPGetDatum(ra->conditional) : (Datum) 0;

		if (pgmq_priority_applies(q))	/* issue 16: highest priority first */
			return pgmq_priority_dead_letter_read(fcinfo, q, &dl, ra->qty, ra->vt, cond);
		return pgmq_dead_letter_read(fcinfo, q, &dl, ra->qty, ra->vt, cond, -1);
	}
	if (pgmq_priority_applies(q))	/* issue 16: highest priority first */
		return pgmq_priority_read(fcinfo, q, ra->qty, ra->vt,
								  ra->conditional ? JsonbPGetDatum(ra->conditional) : (Datum) 0);
	if (pgmq_retention_applies(q))	/* issue 16: skips expired messages */
		return pgmq_retention_read(fcinfo, q, ra->qty, ra->vt,
								   ra->conditional ? JsonbPGetDatum(ra->conditional) : (Datum) 0);
	start = pgmq_horizon_advance(q, now);
	values[0] = Int32GetDatum(ra->qty);
	values[1] = TimestampTzGetDatum(new_vt);
	values[2] = TimestampTzGetDatum(now);
	if (ra->conditional == NULL)
	{
		values[3] = ObjectIdGetDatum(q->qrelid);
		spec = (ra->qty == 1) ? read_specs[start][0] : read_specs[start][1];
	}
	else
	{
		values[3] = JsonbPGetDatum(ra->conditional);
		values[4] = ObjectIdGetDatum(q->qrelid);
		spec = (ra->qty == 1) ? read_specs[start][2] : read_specs[start][3];
	}
	/* the new versions' vt: never below the start (they only hide messages) */
	pgmq_horizon_expect_write(q->qrelid, new_vt);
	if (ra->qty == 1)
	{
		n = pgmq_run_into(fcinfo, q, spec, values, NULL);
		pgmq_horizon_expect_done();
		return n;
	}

	/* several: ordered by the position column, see BY_MANY */
	n = pgmq_run(q, spec, values, NULL);
	pgmq_horizon_expect_done();
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	SPI_tuptable = NULL;
	return n;
}

/* pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb DEFAULT '{}') */
Datum
pgmq_read(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	ReadArgs	ra;

	pgmq_init_srf(fcinfo);
	read_args(fcinfo, 3, &ra);
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	pgmq_connect();
	read_once(fcinfo, &q, &ra);
	pgmq_stats_read(&q, fcinfo);
	pgmq_finish();
	return (Datum) 0;
}

/*
 * pgmq.read_with_poll(queue_name text, vt integer, qty integer,
 *		max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100,
 *		conditional jsonb DEFAULT '{}')
 *
 * Read; while nothing is visible and max_poll_seconds have not passed, wait
 * (woken by a committed send when the library is preloaded, else every
 * poll_interval_ms) and read again.  Every attempt takes a fresh snapshot.
 */
Datum
pgmq_read_with_poll(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	ReadArgs	ra;
	int32		max_poll_seconds;
	int32		poll_interval_ms;
	TimestampTz deadline;

	pgmq_init_srf(fcinfo);
	read_args(fcinfo, 5, &ra);
	max_poll_seconds = pgmq_nonneg_int_arg(fcinfo, 3, "max_poll_seconds");
	poll_interval_ms = pgmq_positive_int_arg(fcinfo, 4, "poll_interval_ms");
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	deadline = GetCurrentTimestamp() + (TimestampTz) max_poll_seconds * USECS_PER_SEC;

	/*
	 * One SPI connection per attempt: SPI_finish frees everything the
	 * attempt and the wait after it allocated (SPI allocates in its
	 * procedure context whatever context the caller switched to), so a
	 * long poll does not grow.
	 */
	for (;;)
	{
		bool		done;

		pgmq_connect();
		done = read_once(fcinfo, &q, &ra) > 0 || GetCurrentTimestamp() >= deadline;
		if (!done)
			pgmq_wait_for_messages(&q, deadline, poll_interval_ms);
		else
			pgmq_stats_read(&q, fcinfo);
		pgmq_finish();
		if (done)
			break;
	}
	return (Datum) 0;
}

/* pgmq.pop(queue_name text, qty integer DEFAULT 1): delete and return */
Datum
pgmq_pop(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	Datum		values[3];
	int32		qty;
	bool		start;

	pgmq_init_srf(fcinfo);
	qty = pgmq_positive_int_arg(fcinfo, 1, "qty");
	values[0] = Int32GetDatum(qty);
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	values[1] = pgmq_seconds_from_now(0);
	values[2] = ObjectIdGetDatum(q.qrelid);
	pgmq_connect();
	if (pgmq_priority_applies(&q))	/* issue 16: highest priority first */
		pgmq_priority_pop(fcinfo, &q, qty);
	else if (pgmq_retention_applies(&q))	/* issue 16: skips expired messages */
		pgmq_retention_pop(fcinfo, &q, qty);
	else
	{
		start = pgmq_horizon_advance(&q, DatumGetTimestampTz(values[1]));
		if (qty == 1)
			pgmq_run_into(fcinfo, &q, &pop_specs[start][0], values, NULL);
		else
		{
			pgmq_run(&q, &pop_specs[start][1], values, NULL);
			sort_by_vt(SPI_tuptable, SPI_processed);
			pgmq_emit_rows(fcinfo);
		}
	}
	pgmq_stats_emitted(&q, PGMQ_STAT_POP, fcinfo);
	pgmq_finish();
	return (Datum) 0;
}

/* Set vt of the messages in ids (a bigint[] Datum) to the timestamptz vt. */
static Datum
set_vt(FunctionCallInfo fcinfo, Datum ids, Datum vt)
{
	PgmqQueue	q;
	Datum		values[2];
	uint64		n;

	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	values[0] = ids;
	values[1] = vt;
	pgmq_connect();
	/* a vt in the past moves the queue's start position back (horizon.c) */
	pgmq_horizon_expect_write(q.qrelid, DatumGetTimestampTz(vt));
	n = pgmq_run_into(fcinfo, &q, &set_vt_spec, values, NULL);
	pgmq_horizon_expect_done();
	/* a new vt can make a message visible sooner: wake waiters at commit */
	if (n > 0)
		pgmq_wakeup_note_send(&q);
	pgmq_vacuum_note_consumed(n);
	pgmq_finish();
	return (Datum) 0;
}

/* A one-element bigint[] holding msg_id argument argno. */
static Datum
single_id_array(FunctionCallInfo fcinfo, int argno)
{
	Datum		id;

	pgmq_require_arg(fcinfo, argno, "msg_id");
	id = PG_GETARG_DATUM(argno);
	return PointerGetDatum(construct_array(&id, 1, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* The timestamptz vt argument argno, which must not be NULL. */
static Datum
vt_at_arg(FunctionCallInfo fcinfo, int argno)
{
	pgmq_require_arg(fcinfo, argno, "vt");
	return PG_GETARG_DATUM(argno);
}

/* pgmq.set_vt(queue_name text, msg_id bigint, vt integer) */
Datum
pgmq_set_vt(PG_FUNCTION_ARGS)
{
	pgmq_init_srf(fcinfo);
	return set_vt(fcinfo, single_id_array(fcinfo, 1),
				  pgmq_seconds_from_now(pgmq_nonneg_int_arg(fcinfo, 2, "vt")));
}

/* pgmq.set_vt(queue_name text, msg_id bigint, vt timestamptz) */
Datum
pgmq_set_vt_at(PG_FUNCTION_ARGS)
{
	pgmq_init_srf(fcinfo);
	return set_vt(fcinfo, single_id_array(fcinfo, 1), vt_at_arg(fcinfo, 2));
}

/* pgmq.set_vt(queue_name text, msg_ids bigint[], vt integer) */
Datum
pgmq_set_vt_ids(PG_FUNCTION_ARGS)
{
	pgmq_init_srf(fcinfo);
	return set_vt(fcinfo, pgmq_id_array_arg(fcinfo, 1, "msg_ids"),
				  pgmq_seconds_from_now(pgmq_nonneg_int_arg(fcinfo, 2, "vt")));
}

/* pgmq.set_vt(queue_name text, msg_ids bigint[], vt timestamptz) */
Datum
pgmq_set_vt_ids_at(PG_FUNCTION_ARGS)
{
	pgmq_init_srf(fcinfo);
	return set_vt(fcinfo, pgmq_id_array_arg(fcinfo, 1, "msg_ids"), vt_at_arg(fcinfo, 2));
}
