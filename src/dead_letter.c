/*
 * dead_letter.c
 *	  Dead-letter queues: pgmq.set_dead_letter_queue, clear_dead_letter_queue,
 *	  redrive, the policy trigger, and the move of poison messages that the
 *	  read paths (read, read_with_poll, every read_grouped*) call.
 *
 * A policy is a row of pgmq.dead_letter_policy (queue_name, dead_letter_queue,
 * max_read_ct); both names reference pgmq.meta ON DELETE CASCADE, so dropping
 * either queue removes the policy.  A row trigger on the table invalidates the
 * relcache entry of the source queue's table on every change (including those
 * cascades), which clears the policy cached in each backend's plan-cache entry
 * (PgmqQueueState): a queue without a policy costs its readers one cached
 * flag test, and every backend sees a new or removed policy from its next
 * transaction on.
 *
 * The move: when a read meets a visible message whose read_ct has reached
 * max_read_ct, it deletes the message from the queue (RETURNING it with its
 * headers extended by x-pgmq-dead-letter) and inserts it into the dead-letter
 * queue, within the read call, so the move commits or rolls back with the
 * read.  The message is then not delivered, and the read fills its batch from
 * the messages after it.  The dead-letter queue is locked (RowExclusiveLock)
 * before anything is deleted; if it was dropped meanwhile, the read delivers
 * as if there were no policy.  Each move adds to a per-backend row of
 * pgmq.dead_letter_counts (so concurrent readers never wait on one counter
 * row); metrics sums them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type_d.h"
#include "commands/trigger.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pg_compat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_set_dead_letter_queue);
PG_FUNCTION_INFO_V1(pgmq_clear_dead_letter_queue);
PG_FUNCTION_INFO_V1(pgmq_redrive);
PG_FUNCTION_INFO_V1(pgmq_dead_letter_policy_changed);

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
 * name, [$6 conditional].  Locks the batch as read does, deletes the poison
 * messages in it and updates the others; rows come back flagged, in read
 * order (dead rows carry only message and dead-letter headers).
 */
#define READ_DLQ_SQL(filter) \
	"WITH c AS (SELECT msg_id, vt FROM %1$s" \
	" WHERE vt OPERATOR(pg_catalog.<=) $3" filter \
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
	READ_DLQ_SQL(""), 5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID}
};

static const PgmqPlanSpec read_dlq_cond_spec = {
	READ_DLQ_SQL(" AND message OPERATOR(pg_catalog.@>) $6"),
	6, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTOID, JSONBOID}
};

/* Delete messages $1 that are visible at $3 and were read $2 times ($4 queue name). */
static const PgmqPlanSpec delete_poison_spec = {
	"WITH d AS (DELETE FROM %1$s m WHERE m.msg_id OPERATOR(pg_catalog.=) ANY ($1)"
	" AND m.read_ct OPERATOR(pg_catalog.>=) $2 AND m.vt OPERATOR(pg_catalog.<=) $3"
	" RETURNING m.msg_id, m.message, " DL_HEADERS("$4", "$3") " AS headers)"
	" SELECT msg_id, message, headers FROM d ORDER BY msg_id",
	4, {INT8ARRAYOID, INT4OID, TIMESTAMPTZOID, TEXTOID}
};

/* Append messages $1 with headers $2, visible at $3, in array order. */
static const PgmqPlanSpec insert_spec = {
	"INSERT INTO %1$s (vt, message, headers)"
	" SELECT $3, u.m, u.h"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS u(m, h, n)"
	" ORDER BY u.n",
	3, {JSONBARRAYOID, JSONBARRAYOID, TIMESTAMPTZOID}
};

/*
 * redrive: take up to $1 (NULL: all) dead-lettered messages of this queue,
 * oldest first, skipping rows locked by open transactions; return them with
 * the queue they came from and their headers as they were.
 */
static const PgmqPlanSpec redrive_take_spec = {
	"WITH c AS (SELECT msg_id FROM %1$s"
	" WHERE pg_catalog.jsonb_typeof(headers OPERATOR(pg_catalog.->) 'x-pgmq-dead-letter')"
	"  OPERATOR(pg_catalog.=) 'object'"
	" ORDER BY msg_id LIMIT $1 FOR UPDATE SKIP LOCKED),"
	" d AS (DELETE FROM %1$s m USING c WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id"
	"  RETURNING m.msg_id, m.message, m.headers OPERATOR(pg_catalog.->) 'x-pgmq-dead-letter' AS info,"
	"  m.headers)"
	" SELECT info OPERATOR(pg_catalog.->>) 'queue', message,"
	"  CASE WHEN info OPERATOR(pg_catalog.?) 'headers' THEN"
	"   CASE WHEN pg_catalog.jsonb_typeof(info OPERATOR(pg_catalog.->) 'headers')"
	"    OPERATOR(pg_catalog.=) 'null' THEN NULL ELSE info OPERATOR(pg_catalog.->) 'headers' END"
	"  ELSE headers OPERATOR(pg_catalog.-) 'x-pgmq-dead-letter'::text END"
	" FROM d ORDER BY msg_id",
	1, {INT8OID}
};

/* Does pgmq.<relname> exist?  (The 1.1 tables are absent at version 1.0.) */
static bool
pgmq_relation_exists(const char *relname)
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
	if (pgmq_relation_exists("dead_letter_policy"))
	{
		values[0] = CStringGetTextDatum(q->name);
		pgmq_run_sql("SELECT dead_letter_queue::text, max_read_ct FROM pgmq.dead_letter_policy"
					 " WHERE queue_name OPERATOR(pg_catalog.=) $1",
					 SPI_OK_SELECT, 1, types, values, NULL);
		if (SPI_processed == 1)
		{
			char	   *dlq = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			bool		isnull;
			int32		max = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 2,
														  &isnull));

			if (dlq != NULL && strlen(dlq) < NAMEDATALEN && !isnull && max > 0)
			{
				strcpy(st->dlq_name, dlq);
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
	strcpy(dl->dlq.name, st->dlq_name);
	/* st may be reset by invalidations this lock brings in: copied above */
	if (!pgmq_open_named(&dl->dlq, RowExclusiveLock, true))
		return false;
	dl->max_read_ct = max;
	return true;
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
	Oid			types[3] = {TEXTOID, INT4OID, INT8OID};
	Datum		cvalues[3];
	Oid			save_userid;
	int			save_sec_context;

	if (n == 0)
		return;
	dims[0] = n;
	values[0] = PointerGetDatum(construct_md_array(msgs, mnulls, 1, dims, lbs,
												   JSONBOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_md_array(headers, hnulls, 1, dims, lbs,
												   JSONBOID, -1, false, TYPALIGN_INT));
	values[2] = TimestampTzGetDatum(now);
	pgmq_run(&dl->dlq, &insert_spec, values, NULL);
	pgmq_wakeup_note_send(&dl->dlq);
	pgmq_stats_dead_letter(q, &dl->dlq, n);

	/* counted as the table's owner: readers need no privilege on it */
	cvalues[0] = CStringGetTextDatum(q->name);
	cvalues[1] = Int32GetDatum((int32) pgmq_my_proc_number());
	cvalues[2] = Int64GetDatum((int64) n);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(pgmq_extension_table_owner("dead_letter_counts"),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	pgmq_run_sql("INSERT INTO pgmq.dead_letter_counts AS c (queue_name, slot, moved)"
				 " VALUES ($1, $2, $3) ON CONFLICT (queue_name, slot)"
				 " DO UPDATE SET moved = c.moved OPERATOR(pg_catalog.+) EXCLUDED.moved",
				 SPI_OK_INSERT, 3, types, cvalues, NULL);
	SetUserIdAndSecContext(save_userid, save_sec_context);
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
 * rows go to the caller's tuplestore; returns how many.
 */
uint64
pgmq_dead_letter_read(FunctionCallInfo fcinfo, PgmqQueue *q, PgmqDeadLetter *dl,
					  int32 qty, int32 vt, Datum conditional)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		total = 0;

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		Datum		values[6];
		Datum		out[7];
		bool		outnulls[7];
		uint64		i;
		int			ndead;

		values[0] = Int32GetDatum(qty - (int32) total);
		values[1] = TimestampTzGetDatum(now + (TimestampTz) vt * USECS_PER_SEC);
		values[2] = TimestampTzGetDatum(now);
		values[3] = Int32GetDatum(dl->max_read_ct);
		values[4] = CStringGetTextDatum(q->name);
		values[5] = conditional;
		pgmq_run(q, conditional != (Datum) 0 ? &read_dlq_cond_spec : &read_dlq_spec,
				 values, NULL);
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
	Datum	   *d;
	Datum		values[4];
	int			i;
	int			moved;

	if (n == 0)
		return 0;
	d = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(ids[i]);
	values[0] = PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL,
												TYPALIGN_DOUBLE));
	values[1] = Int32GetDatum(dl->max_read_ct);
	values[2] = TimestampTzGetDatum(now);
	values[3] = CStringGetTextDatum(q->name);
	pgmq_run(q, &delete_poison_spec, values, NULL);
	moved = move_rows(q, dl, 0, 2, 3, now);
	SPI_freetuptable(SPI_tuptable);
	return moved;
}

/* Refuse to run without the 1.1 tables (the library is newer than the SQL). */
static void
require_policy_tables(void)
{
	if (!pgmq_relation_exists("dead_letter_policy"))
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
				 " VALUES ($1, $2, $3) ON CONFLICT (queue_name) DO UPDATE"
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
	pgmq_run_sql("DELETE FROM pgmq.dead_letter_policy WHERE queue_name OPERATOR(pg_catalog.=) $1",
				 SPI_OK_DELETE, 1, types, values, NULL);
	found = SPI_processed > 0;
	pgmq_finish();
	PG_RETURN_BOOL(found);
}

/*
 * Insert rows [from, to) of tt (queue, message, headers) into queue target,
 * visible now.
 */
static void
redrive_insert(SPITupleTable *tt, uint64 from, uint64 to, PgmqQueue *target)
{
	int			n = (int) (to - from);
	Datum	   *msgs = palloc(sizeof(Datum) * n);
	Datum	   *headers = palloc(sizeof(Datum) * n);
	bool	   *hnulls = palloc(sizeof(bool) * n);
	bool	   *mnulls = palloc(sizeof(bool) * n);
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		values[3];
	int			i;

	for (i = 0; i < n; i++)
	{
		msgs[i] = SPI_getbinval(tt->vals[from + i], tt->tupdesc, 2, &mnulls[i]);
		headers[i] = SPI_getbinval(tt->vals[from + i], tt->tupdesc, 3, &hnulls[i]);
	}
	values[0] = PointerGetDatum(construct_md_array(msgs, mnulls, 1, dims, lbs,
												   JSONBOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_md_array(headers, hnulls, 1, dims, lbs,
												   JSONBOID, -1, false, TYPALIGN_INT));
	values[2] = pgmq_seconds_from_now(0);
	pgmq_run(target, &insert_spec, values, NULL);
	pgmq_wakeup_note_send(target);
	pgmq_stats_count(target, PGMQ_STAT_ENQUEUED, n);
}

/*
 * pgmq.redrive(dead_letter_queue text, queue_name text DEFAULT NULL,
 *		qty integer DEFAULT NULL) RETURNS bigint
 *
 * Move dead-lettered messages (those with an x-pgmq-dead-letter header) of
 * dead_letter_queue back to the queue each came from, or all to queue_name:
 * oldest first, at most qty (NULL: all), as new messages (read_ct 0) with
 * their headers as they were before they were dead-lettered.  Returns how
 * many moved.
 */
Datum
pgmq_redrive(PG_FUNCTION_ARGS)
{
	PgmqQueue	dlq;
	PgmqQueue	target;
	bool		fixed_target = !PG_ARGISNULL(1);
	Datum		limit = (Datum) 0;
	char		nulls[1] = {'n'};
	SPITupleTable *tt;
	uint64		n;
	uint64		start;

	pgmq_name_arg(fcinfo, 0, dlq.name);
	if (fixed_target)
		pgmq_name_arg(fcinfo, 1, target.name);
	if (!PG_ARGISNULL(2))
	{
		limit = Int64GetDatum((int64) pgmq_positive_int_arg(fcinfo, 2, "qty"));
		nulls[0] = ' ';
	}
	if (fixed_target && strcmp(dlq.name, target.name) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot redrive queue \"%s\" into itself", dlq.name)));
	(void) pgmq_open_named(&dlq, RowExclusiveLock, false);
	if (fixed_target)
		(void) pgmq_open_named(&target, RowExclusiveLock, false);

	pgmq_connect();
	pgmq_run(&dlq, &redrive_take_spec, &limit, nulls);
	tt = SPI_tuptable;
	n = SPI_processed;
	pgmq_stats_count(&dlq, PGMQ_STAT_REMOVED, n);
	if (fixed_target && n > 0)
		redrive_insert(tt, 0, n, &target);
	/* else: runs of rows from one source queue, in dead-letter order */
	for (start = 0; !fixed_target && start < n;)
	{
		char	   *src = SPI_getvalue(tt->vals[start], tt->tupdesc, 1);
		uint64		end = start + 1;

		if (src == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a dead-lettered message in queue \"%s\" does not name its queue",
							dlq.name),
					 errhint("Pass queue_name to redrive its messages into a queue of your choice.")));
		while (end < n)
		{
			char	   *next = SPI_getvalue(tt->vals[end], tt->tupdesc, 1);

			if (next == NULL || strcmp(next, src) != 0)
				break;
			end++;
		}
		pgmq_check_name(src, target.name);
		if (strcmp(target.name, dlq.name) == 0 ||
			!pgmq_open_named(&target, RowExclusiveLock, true))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("queue \"%s\" does not exist", target.name),
					 errdetail("Messages dead-lettered from it are in queue \"%s\".", dlq.name),
					 errhint("Pass queue_name to redrive them into another queue.")));
		redrive_insert(tt, start, end, &target);
		start = end;
	}
	pgmq_finish();
	PG_RETURN_INT64((int64) n);
}

/*
 * Trigger on pgmq.dead_letter_policy (AFTER INSERT OR UPDATE OR DELETE, FOR
 * EACH ROW): make every backend drop the cached policy of the source queue.
 */
Datum
pgmq_dead_letter_policy_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tuples[2];
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pgmq: dead_letter_policy_changed must be called as a trigger");
	tuples[0] = td->tg_trigtuple;
	tuples[1] = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : NULL;
	for (i = 0; i < 2; i++)
	{
		bool		isnull;
		Datum		name;
		char	   *relname;
		Oid			relid;

		if (tuples[i] == NULL)
			continue;
		name = heap_getattr(tuples[i], 1, RelationGetDescr(td->tg_relation), &isnull);
		if (isnull)
			continue;
		relname = psprintf("q_%s", TextDatumGetCString(name));
		relid = OidIsValid(pgmq_namespace_oid(true)) && strlen(relname) < NAMEDATALEN ?
			get_relname_relid(relname, pgmq_namespace_oid(true)) : InvalidOid;
		if (OidIsValid(relid))
			CacheInvalidateRelcacheByRelid(relid);
	}
	return PointerGetDatum(NULL);	/* AFTER trigger: ignored */
}
