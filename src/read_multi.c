/*
 * read_multi.c
 *	  Reading several queues at once: pgmq.read_multi and
 *	  pgmq.read_multi_with_poll.
 *
 * Arguments are checked, and every queue is resolved and locked (as read
 * locks one), before anything is read: a NULL, empty or multi-dimensional
 * array, a NULL element, an invalid or unknown name, or a queue named twice
 * (after lower-casing) is an error and nothing is taken.
 *
 * One attempt, each step a short statement with a fresh snapshot:
 *	  1. peek: from each queue, up to the batch's remaining size of its
 *		 visible messages in (vt, msg_id) order, without locking (one range
 *		 scan of q_<name>_vt_idx that stops at "now", like read); on a queue
 *		 with a message retention (retention.c), only messages not expired
 *		 (enqueued_at not older than the retention at "now"), as read does;
 *	  2. merge the candidates of all queues by (vt, position of the queue in
 *		 the array, msg_id) and choose the first ones the batch needs;
 *		 messages that reached a queue's dead-letter max_read_ct are moved to
 *		 its dead-letter queue (dead_letter.c) instead of being chosen;
 *	  3. take: per queue, lock the chosen messages FOR UPDATE SKIP LOCKED,
 *		 re-checking on the latest row version that each is still visible
 *		 (and not expired), and hide them as read does (vt, read_ct,
 *		 last_read_at);
 *	  4. if a concurrent reader got some of the chosen ones first (they were
 *		 locked or no longer visible), peek again for what is still missing,
 *		 up to MULTI_ROUNDS rounds.
 * Rows come back round by round in merge order: oldest visible first across
 * queues, each with its queue's name (as pgmq.meta spells it: the case of
 * the create call) in front of the message_record columns.
 * A message is never delivered twice and never while another reader holds it
 * (the SKIP LOCKED lock and the vt re-check of step 3, as in read).
 *
 * read_multi_with_poll waits on all the queues at once with one
 * registration (wakeup.c, wait.c): a commit that sent to any of them wakes
 * it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_read_multi);
PG_FUNCTION_INFO_V1(pgmq_read_multi_with_poll);

/* Rounds of peek-and-take one attempt makes when others take its picks. */
#define MULTI_ROUNDS 3

/* 1. up to $2 visible messages at $1, in read order, unlocked. */
#define PEEK_SQL(filter) \
	PGMQ_FIXED_PLAN "SELECT msg_id, vt, read_ct FROM %1$s" \
	" WHERE vt OPERATOR(pg_catalog.<=) $1" filter " ORDER BY vt, msg_id LIMIT $2"

static const PgmqPlanSpec peek_spec = {
	PEEK_SQL(""), 2, {TIMESTAMPTZOID, INT4OID}
};

/*
 * The same on a queue with a message retention: only messages enqueued at
 * $3 or later (the oldest a read may deliver), so expired ones are never
 * chosen (issue 16).
 */
#define RETENTION_FILTER(t, p) " AND " t "enqueued_at OPERATOR(pg_catalog.>=) " p

static const PgmqPlanSpec peek_ret_spec = {
	PEEK_SQL(RETENTION_FILTER("", "$3")), 3, {TIMESTAMPTZOID, INT4OID, TIMESTAMPTZOID}
};

/*
 * 3. take messages $1 (with merge positions $5) that are still visible at
 * $3 and read fewer than $4 times, skipping those another transaction holds;
 * hide them until $2.  The position comes back after the message_record
 * columns, then the queue's name as pgmq.meta spells it ($6 is the
 * lower-cased name; an init plan, so it runs once, and only when a row
 * comes back).
 */
#define TAKE_SQL(filter) \
	PGMQ_FIXED_PLAN "UPDATE %1$s m SET vt = $2," \
	" read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3" \
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($5)) AS p(id, n)" \
	" WHERE m.msg_id OPERATOR(pg_catalog.=) p.id" \
	" AND m.msg_id OPERATOR(pg_catalog.=) ANY (ARRAY(" \
	"  SELECT l.msg_id FROM %1$s l WHERE l.msg_id OPERATOR(pg_catalog.=) ANY ($1)" \
	"  AND l.vt OPERATOR(pg_catalog.<=) $3 AND l.read_ct OPERATOR(pg_catalog.<) $4" filter \
	"  FOR UPDATE SKIP LOCKED))" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", p.n, " PGMQ_META_NAME("$6") "::pg_catalog.text"

static const PgmqPlanSpec take_spec = {
	TAKE_SQL(""),
	6, {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, INT8ARRAYOID, TEXTOID}
};

/* ... on a queue with a message retention: re-checks the bound $7 too */
static const PgmqPlanSpec take_ret_spec = {
	TAKE_SQL(RETENTION_FILTER("l.", "$7")),
	7, {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, INT8ARRAYOID, TEXTOID,
	TIMESTAMPTZOID}
};

/* One queue of the call. */
typedef struct MultiQueue
{
	PgmqDeadLetter dl;
	bool		has_dl;
	int32		max_read_ct;	/* PG_INT32_MAX without a dead-letter policy */
	bool		has_retention;	/* a message retention: messages enqueued ... */
	TimestampTz oldest;			/* ... before this are expired, never taken */
} MultiQueue;

/* A visible message found by a peek. */
typedef struct MultiCand
{
	TimestampTz vt;
	int			qi;				/* position of its queue in the array */
	int64		msg_id;
	bool		poison;			/* read max_read_ct times: to be moved */
} MultiCand;

/* A taken row, kept (in its SPI tuple table) until the round is emitted. */
typedef struct MultiRow
{
	int64		pos;			/* merge position */
	int			qi;
	HeapTuple	tuple;			/* message_record columns, the position, the name */
	TupleDesc	desc;
} MultiRow;

/* The checked arguments and state of one call. */
typedef struct MultiRead
{
	int			nq;
	PgmqQueue	qs[PGMQ_MAX_MULTI_QUEUES];
	MultiQueue	mq[PGMQ_MAX_MULTI_QUEUES];
	int32		vt;
	int32		qty;
} MultiRead;

static int
cand_cmp(const void *a, const void *b)
{
	const MultiCand *x = a;
	const MultiCand *y = b;

	if (x->vt != y->vt)
		return (x->vt > y->vt) - (x->vt < y->vt);
	if (x->qi != y->qi)
		return (x->qi > y->qi) - (x->qi < y->qi);
	return (x->msg_id > y->msg_id) - (x->msg_id < y->msg_id);
}

static int
row_cmp(const void *a, const void *b)
{
	int64		x = ((const MultiRow *) a)->pos;
	int64		y = ((const MultiRow *) b)->pos;

	return (x > y) - (x < y);
}

/*
 * Check queue_names (argument 0) and resolve every queue, locked for
 * reading, in array order.  Every check comes before the first lock.
 */
static void
multi_queues(FunctionCallInfo fcinfo, MultiRead *mr)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	int			j;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("queue_names cannot be NULL")));
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("queue_names must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("queue_names cannot be empty")));
	if (n > PGMQ_MAX_MULTI_QUEUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("queue_names may name at most %d queues, got %d",
						PGMQ_MAX_MULTI_QUEUES, n)));
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("queue_names cannot contain NULL elements")));
		pgmq_check_name(TextDatumGetCString(elems[i]), mr->qs[i].name);
		for (j = 0; j < i; j++)
		{
			if (strcmp(mr->qs[i].name, mr->qs[j].name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("queue \"%s\" is named more than once in queue_names",
								mr->qs[i].name)));
		}
	}
	mr->nq = n;
	for (i = 0; i < n; i++)
		(void) pgmq_open_named(&mr->qs[i], RowExclusiveLock, false);
}

/*
 * Open the dead-letter policies and message retentions of the queues (per
 * attempt: they may change; the retention bound moves with now).
 */
static void
open_policies(MultiRead *mr, TimestampTz now)
{
	int			i;

	for (i = 0; i < mr->nq; i++)
	{
		mr->mq[i].has_dl = pgmq_dead_letter_open(&mr->qs[i], &mr->mq[i].dl);
		mr->mq[i].max_read_ct = mr->mq[i].has_dl ? mr->mq[i].dl.max_read_ct : PG_INT32_MAX;
		/* issue 16: one cached test; a queue without one keeps its plans */
		mr->mq[i].has_retention = pgmq_retention_cutoff(&mr->qs[i], now, &mr->mq[i].oldest);
		if (!mr->mq[i].has_retention)
			mr->mq[i].oldest = DT_NOBEGIN;	/* unused by the plain plans */
	}
}

/*
 * Step 1: peek at up to want visible messages of every queue at now; the
 * candidates come back merged, in cxt (sized by what was found, so a huge
 * qty costs nothing up front).
 */
static MultiCand *
peek_all(MultiRead *mr, MemoryContext cxt, TimestampTz now, int32 want, int *ncand)
{
	SPITupleTable *tts[PGMQ_MAX_MULTI_QUEUES];
	uint64		total = 0;
	MultiCand  *c;
	int			n = 0;
	int			i;

	for (i = 0; i < mr->nq; i++)
	{
		Datum		values[3];

		values[0] = TimestampTzGetDatum(now);
		values[1] = Int32GetDatum(want);
		values[2] = TimestampTzGetDatum(mr->mq[i].oldest);
		total += pgmq_run(&mr->qs[i], mr->mq[i].has_retention ? &peek_ret_spec : &peek_spec,
						  values, NULL);
		tts[i] = SPI_tuptable;
	}
	c = MemoryContextAlloc(cxt, sizeof(MultiCand) * (total > 0 ? total : 1));
	for (i = 0; i < mr->nq; i++)
	{
		uint64		k;

		for (k = 0; k < tts[i]->numvals; k++)
		{
			HeapTuple	t = tts[i]->vals[k];
			TupleDesc	d = tts[i]->tupdesc;
			bool		isnull;

			c[n].msg_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
			c[n].vt = DatumGetTimestampTz(SPI_getbinval(t, d, 2, &isnull));
			c[n].poison = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull)) >=
				mr->mq[i].max_read_ct;
			c[n].qi = i;
			n++;
		}
		SPI_freetuptable(tts[i]);
	}
	if (n > 1)
		qsort(c, n, sizeof(MultiCand), cand_cmp);
	*ncand = n;
	return c;
}

/*
 * The name to return for queue qi: stored, its name as pgmq.meta spells it
 * (from the take statement), when it passes the name rule and is that
 * queue's name; the lower-cased name otherwise (no meta row, or a bad one).
 * A new text Datum.
 */
static Datum
shown_name(MultiRead *mr, int qi, Datum stored, bool isnull)
{
	char		lower[NAMEDATALEN];
	char	   *raw;

	if (!isnull)
	{
		raw = TextDatumGetCString(stored);
		if (pgmq_name_from_table(raw, "pgmq.meta", lower) &&
			strcmp(lower, mr->qs[qi].name) == 0)
			return PointerGetDatum(cstring_to_text(raw));
	}
	return PointerGetDatum(cstring_to_text(mr->qs[qi].name));
}

/*
 * One round: steps 1 to 3 for up to want messages.  Taken rows are appended
 * to the caller's tuplestore in merge order; *chosen is set to how many
 * were chosen.  Returns how many were taken.  Working memory comes from
 * cxt, which the caller resets after the round (SPI calls leave the current
 * context at SPI's procedure context, so nothing here relies on it).
 */
static uint64
multi_round(FunctionCallInfo fcinfo, MultiRead *mr, MemoryContext cxt,
			TimestampTz now, int32 want, int64 pos_base, int *chosen)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MultiCand  *c;
	int			ncand;
	int			nchosen = 0;
	MultiRow   *rows;
	int			nrows = 0;
	SPITupleTable *tts[PGMQ_MAX_MULTI_QUEUES];
	int			ntts = 0;
	int64	   *ids;
	int64	   *pos;
	int			i;
	int			k;

	c = peek_all(mr, cxt, now, want, &ncand);
	ids = MemoryContextAlloc(cxt, sizeof(int64) * (ncand > 0 ? ncand : 1));
	pos = MemoryContextAlloc(cxt, sizeof(int64) * (ncand > 0 ? ncand : 1));

	/* step 2: choose the first want deliverable ones, move the poison ones */
	for (i = 0; i < ncand && nchosen < want; i++)
	{
		if (!c[i].poison)
			nchosen++;
	}
	ncand = i;					/* the candidates considered */
	for (k = 0; k < mr->nq; k++)
	{
		int			np = 0;

		if (!mr->mq[k].has_dl)
			continue;
		for (i = 0; i < ncand; i++)
			if (c[i].qi == k && c[i].poison)
				ids[np++] = c[i].msg_id;
		if (np > 0)
			pgmq_dead_letter_ids(&mr->qs[k], &mr->mq[k].dl, ids, np, now);
	}

	/* step 3: take, queue by queue */
	rows = MemoryContextAlloc(cxt, sizeof(MultiRow) * (nchosen > 0 ? nchosen : 1));
	for (k = 0; k < mr->nq; k++)
	{
		int			nk = 0;
		Datum		values[7];
		MemoryContext old;
		uint64		r;
		uint64		j;

		for (i = 0; i < ncand; i++)
		{
			if (c[i].qi != k || c[i].poison)
				continue;
			ids[nk] = c[i].msg_id;
			pos[nk] = pos_base + i;
			nk++;
		}
		if (nk == 0)
			continue;
		old = MemoryContextSwitchTo(cxt);
		values[0] = pgmq_int8_array(ids, nk);
		values[4] = pgmq_int8_array(pos, nk);
		MemoryContextSwitchTo(old);
		values[1] = TimestampTzGetDatum(now + (TimestampTz) mr->vt * USECS_PER_SEC);
		values[2] = TimestampTzGetDatum(now);
		values[3] = Int32GetDatum(mr->mq[k].max_read_ct);
		values[5] = PointerGetDatum(cstring_to_text(mr->qs[k].name));
		values[6] = TimestampTzGetDatum(mr->mq[k].oldest);
		r = pgmq_run(&mr->qs[k], mr->mq[k].has_retention ? &take_ret_spec : &take_spec,
					 values, NULL);
		for (j = 0; j < r && nrows < nchosen; j++)
		{
			MultiRow   *row = &rows[nrows++];
			bool		isnull;

			row->tuple = SPI_tuptable->vals[j];
			row->desc = SPI_tuptable->tupdesc;
			row->pos = DatumGetInt64(heap_getattr(row->tuple, 8, row->desc, &isnull));
			row->qi = k;
		}
		tts[ntts++] = SPI_tuptable;
	}

	if (nrows > 1)
		qsort(rows, nrows, sizeof(MultiRow), row_cmp);
	for (i = 0; i < nrows; i++)
	{
		Datum		out[10];	/* queue_name, message_record, position, name */
		bool		outnulls[10];

		heap_deform_tuple(rows[i].tuple, rows[i].desc, out + 1, outnulls + 1);
		out[0] = shown_name(mr, rows[i].qi, out[9], outnulls[9]);
		outnulls[0] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
		pfree(DatumGetPointer(out[0]));
	}
	for (i = 0; i < ntts; i++)
		SPI_freetuptable(tts[i]);
	*chosen = nchosen;
	return nrows;
}

/*
 * One attempt, connected to SPI: up to qty messages across the queues.
 * Each round's allocations go in a context reset after the round.
 */
static uint64
multi_once(FunctionCallInfo fcinfo, MultiRead *mr)
{
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext round_cxt;
	uint64		total = 0;
	int64		pos_base = 0;
	int			round;

	round_cxt = AllocSetContextCreate(CurrentMemoryContext, "pgmq read_multi round",
									  ALLOCSET_DEFAULT_SIZES);
	open_policies(mr, now);
	for (round = 0; round < MULTI_ROUNDS && total < (uint64) mr->qty; round++)
	{
		int			chosen;
		uint64		taken;

		taken = multi_round(fcinfo, mr, round_cxt, now, mr->qty - (int32) total,
							pos_base, &chosen);
		MemoryContextReset(round_cxt);
		total += taken;
		pos_base += (int64) PG_INT32_MAX * PGMQ_MAX_MULTI_QUEUES;
		/* nothing was visible, or nobody raced us: done */
		if (chosen == 0 || taken == (uint64) chosen)
			break;
	}
	MemoryContextDelete(round_cxt);
	return total;
}

/* Check vt (argument 1) and qty (argument 2), then the queues. */
static void
multi_args(FunctionCallInfo fcinfo, MultiRead *mr)
{
	mr->vt = pgmq_nonneg_int_arg(fcinfo, 1, "vt");
	mr->qty = pgmq_positive_int_arg(fcinfo, 2, "qty");
}

/* pgmq.read_multi(queue_names text[], vt integer, qty integer) */
Datum
pgmq_read_multi(PG_FUNCTION_ARGS)
{
	MultiRead	mr;

	pgmq_init_srf(fcinfo);
	multi_args(fcinfo, &mr);
	multi_queues(fcinfo, &mr);
	pgmq_connect();
	multi_once(fcinfo, &mr);
	pgmq_finish();
	PG_RETURN_NULL();
}

/*
 * pgmq.read_multi_with_poll(queue_names text[], vt integer, qty integer,
 *		max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
 */
Datum
pgmq_read_multi_with_poll(PG_FUNCTION_ARGS)
{
	MultiRead	mr;
	int32		max_poll_seconds;
	int32		poll_interval_ms;
	TimestampTz deadline;

	pgmq_init_srf(fcinfo);
	multi_args(fcinfo, &mr);
	max_poll_seconds = pgmq_nonneg_int_arg(fcinfo, 3, "max_poll_seconds");
	poll_interval_ms = pgmq_positive_int_arg(fcinfo, 4, "poll_interval_ms");
	multi_queues(fcinfo, &mr);
	deadline = GetCurrentTimestamp() + (TimestampTz) max_poll_seconds * USECS_PER_SEC;

	pgmq_connect();
	while (multi_once(fcinfo, &mr) == 0 && GetCurrentTimestamp() < deadline)
		pgmq_wait_for_messages_multi(mr.qs, mr.nq, deadline, poll_interval_ms);
	pgmq_finish();
	PG_RETURN_NULL();
}
