/*
 * dead_letter_move.c
 *	  The move of poison messages on read: what read, read_with_poll and
 *	  every read_grouped* call for a queue with a dead-letter policy, and the
 *	  count of moves that metrics reports.
 *
 * When a read meets a visible message whose read_ct has reached max_read_ct,
 * it deletes the message from the queue (RETURNING it with its headers
 * extended by x-pgmq-dead-letter) and inserts it into the dead-letter queue,
 * within the read call, so the move commits or rolls back with the read.
 * The message is then not delivered, and the read fills its batch from the
 * messages after it.  A batch never holds a message twice and a message the
 * call delivered is never moved: each further round of the read leaves out
 * the ids it delivered already (a delivered message with vt 0 is visible
 * again at once, and its read_ct may just have reached max_read_ct).
 *
 * The dead-letter queue is locked (RowExclusiveLock, by
 * pgmq_dead_letter_open) before anything is deleted; if it was dropped
 * meanwhile, the read delivers as if there were no policy.
 *
 * Counting: each move adds to this backend's row of
 * pgmq.dead_letter_counts (one row per queue and backend slot, so readers
 * in different sessions never wait on one counter row).  The caller writes
 * it with its own rights: everyone may INSERT and UPDATE (moved) there, and
 * the table's trigger (dead_letter_trigger.c) lets a role write only the
 * count of a queue it may DELETE from (which moving needs anyway), and only
 * upwards.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "pg_compat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "dead_letter.h"
#include "stats.h"

/*
 * Headers of row m once dead-lettered by queue $q at time $now: object
 * headers gain the x-pgmq-dead-letter key; other headers (NULL, arrays,
 * scalars) are kept inside it, under "headers", for redrive to restore.
 */
#define DL_INFO(q, now) \
	"pg_catalog.jsonb_build_object('queue', " q ", 'msg_id', m.msg_id," \
	" 'read_ct', m.read_ct, 'enqueued_at', m.enqueued_at, 'dead_lettered_at', " now ")"
#define DL_HEADERS(q, now) \
	"CASE WHEN pg_catalog.jsonb_typeof(m.headers) OPERATOR(pg_catalog.=) 'object'" \
	" THEN m.headers OPERATOR(pg_catalog.||)" \
	"  pg_catalog.jsonb_build_object('x-pgmq-dead-letter', " DL_INFO(q, now) ")" \
	" ELSE pg_catalog.jsonb_build_object('x-pgmq-dead-letter', " DL_INFO(q, now) \
	"  OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('headers', m.headers)) END"

/*
 * read with a policy: $1 qty, $2 new vt, $3 now, $4 max_read_ct, $5 queue
 * name, $6 ids delivered by earlier rounds of this call (left out), $7 the
 * oldest enqueued_at a read may deliver (retention.c; -infinity without a
 * message retention: an expired message is neither delivered nor moved),
 * [$8 conditional]; on a prioritised queue, read one priority at a time:
 * $8 the priority, [$9 conditional], through the priority index as
 * priority.c's reads pick.  Locks the batch as read does, deletes the poison
 * messages in it and updates the others; rows come back flagged, in read
 * order (dead rows carry only message and dead-letter headers).
 */
#define READ_DLQ_SQL(filter) \
	"WITH c AS (SELECT msg_id, vt FROM %1$s" \
	" WHERE vt OPERATOR(pg_catalog.<=) $3" \
	" AND msg_id OPERATOR(pg_catalog.<>) ALL ($6)" \
	" AND enqueued_at OPERATOR(pg_catalog.>=) $7" filter \
	" ORDER BY vt, msg_id LIMIT $1 FOR UPDATE SKIP LOCKED)," \
	" d AS (DELETE FROM %1$s m USING c WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id" \
	"  AND m.read_ct OPERATOR(pg_catalog.>=) $4" \
	"  RETURNING m.msg_id, m.message, " DL_HEADERS("$5", "$3") " AS headers, c.vt AS old_vt)," \
	" u AS (UPDATE %1$s m SET vt = $2," \
	"  read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3" \
	"  FROM c WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id" \
	"  AND m.read_ct OPERATOR(pg_catalog.<) $4" \
	"  RETURNING " PGMQ_M_MESSAGE_COLUMNS ", c.vt AS old_vt)" \
	" SELECT false AS dead, " PGMQ_MESSAGE_COLUMNS ", old_vt FROM u" \
	" UNION ALL SELECT true, msg_id, NULL, NULL, NULL, NULL, message, headers, old_vt FROM d" \
	" ORDER BY 9, 2"

static const PgmqPlanSpec read_dlq_spec = {
	READ_DLQ_SQL(""), 7,
	{INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8ARRAYOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec read_dlq_cond_spec = {
	READ_DLQ_SQL(" AND message OPERATOR(pg_catalog.@>) $8"), 8,
	{INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8ARRAYOID, TIMESTAMPTZOID,
	JSONBOID}
};

/* the range of priority $8 up to now, written so that only the priority index serves it */
#define DLQ_PRIO \
	" AND " PGMQ_PRIO("") " OPERATOR(pg_catalog.=) $8" \
	" AND (" PGMQ_PRIO("") ", vt) OPERATOR(pg_catalog.<=) ($8, $3)"

static const PgmqPlanSpec read_dlq_prio_spec = {
	PGMQ_FIXED_PLAN READ_DLQ_SQL(DLQ_PRIO), 8,
	{INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8ARRAYOID, TIMESTAMPTZOID,
	INT4OID}
};

static const PgmqPlanSpec read_dlq_prio_cond_spec = {
	PGMQ_FIXED_PLAN READ_DLQ_SQL(DLQ_PRIO " AND message OPERATOR(pg_catalog.@>) $9"), 9,
	{INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, INT8ARRAYOID, TIMESTAMPTZOID,
	INT4OID, JSONBOID}
};

/* Delete messages $1 that are visible at $3 and were read $2 times ($4 queue name). */
static const PgmqPlanSpec delete_poison_spec = {
	"WITH d AS (DELETE FROM %1$s m WHERE m.msg_id OPERATOR(pg_catalog.=) ANY ($1)"
	" AND m.read_ct OPERATOR(pg_catalog.>=) $2 AND m.vt OPERATOR(pg_catalog.<=) $3"
	" RETURNING m.msg_id, m.message, " DL_HEADERS("$4", "$3") " AS headers)"
	" SELECT msg_id, message, headers FROM d ORDER BY msg_id",
	4, {INT8ARRAYOID, INT4OID, TIMESTAMPTZOID, TEXTOID}
};

const PgmqPlanSpec pgmq_dl_insert_spec = {
	"INSERT INTO %1$s (vt, message, headers)"
	" SELECT $3, u.m, u.h"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS u(m, h, n)"
	" ORDER BY u.n",
	3, {JSONBARRAYOID, JSONBARRAYOID, TIMESTAMPTZOID}
};

/* Add n to this backend's count of moves out of queue name (as the caller). */
static void
count_moves(const char *name, int n)
{
	Oid			types[3] = {TEXTOID, INT4OID, INT8OID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(name);
	values[1] = Int32GetDatum((int32) pgmq_my_proc_number());
	values[2] = Int64GetDatum((int64) n);
	pgmq_run_sql("INSERT INTO pgmq.dead_letter_counts AS c (queue_name, slot, moved)"
				 " VALUES (" PGMQ_META_NAME("$1") ", $2, $3) ON CONFLICT (queue_name, slot)"
				 " DO UPDATE SET moved = c.moved OPERATOR(pg_catalog.+) EXCLUDED.moved",
				 SPI_OK_INSERT, 3, types, values, NULL);
}

/*
 * Insert n dead-lettered messages (jsonb Datums) into dl's queue and count
 * them for source queue q.
 */
static void
move_to_dlq(PgmqQueue *q, PgmqDeadLetter *dl, Datum *msgs, bool *mnulls,
			Datum *headers, bool *hnulls, int n, TimestampTz now)
{
	Datum		values[3];
	int			dims[1];
	int			lbs[1] = {1};

	if (n == 0)
		return;
	dims[0] = n;
	values[0] = PointerGetDatum(construct_md_array(msgs, mnulls, 1, dims, lbs,
												   JSONBOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_md_array(headers, hnulls, 1, dims, lbs,
												   JSONBOID, -1, false, TYPALIGN_INT));
	values[2] = TimestampTzGetDatum(now);
	pgmq_run(&dl->dlq, &pgmq_dl_insert_spec, values, NULL);
	pgmq_wakeup_note_send(&dl->dlq);
	pgmq_stats_dead_letter(q, &dl->dlq, n);
	count_moves(q->name, n);
}

/*
 * Collect the dead rows of SPI_tuptable (message in column mcol, headers in
 * hcol; rows where column flagcol is true, or all when flagcol is 0) and
 * move them.  Returns how many.
 */
static int
move_rows(PgmqQueue *q, PgmqDeadLetter *dl, int flagcol, int mcol, int hcol,
		  TimestampTz now)
{
	SPITupleTable *tt = SPI_tuptable;
	uint64		nrows = SPI_processed;
	Datum	   *msgs = palloc(sizeof(Datum) * Max(nrows, 1));
	bool	   *mnulls = palloc(sizeof(bool) * Max(nrows, 1));
	Datum	   *headers = palloc(sizeof(Datum) * Max(nrows, 1));
	bool	   *hnulls = palloc(sizeof(bool) * Max(nrows, 1));
	int			n = 0;
	uint64		i;

	for (i = 0; i < nrows; i++)
	{
		bool		isnull;

		if (flagcol > 0 &&
			!DatumGetBool(SPI_getbinval(tt->vals[i], tt->tupdesc, flagcol, &isnull)))
			continue;
		msgs[n] = SPI_getbinval(tt->vals[i], tt->tupdesc, mcol, &mnulls[n]);
		headers[n] = SPI_getbinval(tt->vals[i], tt->tupdesc, hcol, &hnulls[n]);
		n++;
	}
	/* the arrays copy the values, so tt may go once they are built */
	move_to_dlq(q, dl, msgs, mnulls, headers, hnulls, n, now);
	return n;
}

/*
 * read / read_with_poll on queue q with policy dl (connected to SPI): read up
 * to qty messages as read does, moving poison ones instead of delivering them
 * and reading on until the batch is full or no poison was met.  Delivered
 * rows go to the caller's tuplestore; returns how many.  priority >= 0 (a
 * prioritised queue, priority.c): only messages of that priority.
 */
uint64
pgmq_dead_letter_read(FunctionCallInfo fcinfo, PgmqQueue *q, PgmqDeadLetter *dl,
					  int32 qty, int32 vt, Datum conditional, int priority)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		total = 0;
	int64	   *delivered = NULL;
	int			ndelivered = 0;
	int			cap = 0;

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz oldest = DT_NOBEGIN;
		Datum		values[9];
		const PgmqPlanSpec *spec;
		Datum		out[7];
		bool		outnulls[7];
		uint64		i;
		int			ndead;

		values[0] = Int32GetDatum(qty - (int32) total);
		values[1] = TimestampTzGetDatum(now + (TimestampTz) vt * USECS_PER_SEC);
		values[2] = TimestampTzGetDatum(now);
		values[3] = Int32GetDatum(dl->max_read_ct);
		values[4] = CStringGetTextDatum(q->name);
		values[5] = pgmq_int8_array(delivered, ndelivered);
		(void) pgmq_retention_cutoff(q, now, &oldest);
		values[6] = TimestampTzGetDatum(oldest);
		if (priority < 0)
		{
			values[7] = conditional;
			spec = conditional != (Datum) 0 ? &read_dlq_cond_spec : &read_dlq_spec;
		}
		else
		{
			values[7] = Int32GetDatum(priority);
			values[8] = conditional;
			spec = conditional != (Datum) 0 ? &read_dlq_prio_cond_spec : &read_dlq_prio_spec;
		}
		pgmq_run(q, spec, values, NULL);
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		isnull;
			int			c;

			if (DatumGetBool(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull)))
				continue;
			for (c = 0; c < 7; c++)
				out[c] = SPI_getbinval(tup, SPI_tuptable->tupdesc, c + 2, &outnulls[c]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnulls);
			if (ndelivered == cap)
			{
				cap = Max(16, cap * 2);
				delivered = delivered == NULL ? palloc(sizeof(int64) * cap) :
					repalloc(delivered, sizeof(int64) * cap);
			}
			delivered[ndelivered++] = DatumGetInt64(out[0]);
			total++;
		}
		ndead = move_rows(q, dl, 1, 7, 8, now);
		SPI_freetuptable(SPI_tuptable);
		if (ndead == 0 || total >= (uint64) qty)
			return total;
	}
}

/*
 * Grouped reads: move the messages ids[0..n-1] of queue q that are still
 * visible and poison to dl's queue.  Returns how many moved.
 */
uint64
pgmq_dead_letter_ids(PgmqQueue *q, PgmqDeadLetter *dl, const int64 *ids, int n,
					 TimestampTz now)
{
	Datum		values[4];
	int			moved;

	if (n == 0)
		return 0;
	values[0] = pgmq_int8_array(ids, n);
	values[1] = Int32GetDatum(dl->max_read_ct);
	values[2] = TimestampTzGetDatum(now);
	values[3] = CStringGetTextDatum(q->name);
	pgmq_run(q, &delete_poison_spec, values, NULL);
	moved = move_rows(q, dl, 0, 2, 3, now);
	SPI_freetuptable(SPI_tuptable);
	return moved;
}
