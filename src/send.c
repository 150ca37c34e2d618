/*
 * send.c
 *	  Producing: every overload of pgmq.send and pgmq.send_batch.
 *
 * Each SQL overload has its own entry point; all of them end in one kept
 * INSERT plan per queue (single or batch), reached through
 * pgmq_send_to_queue(), which topics.c shares for send_topic and
 * send_batch_topic.  The visibility time is computed
 * here (clock time + delay, or the given timestamptz) and passed as a
 * parameter, so both delay forms share one plan.  msg_ids come back in input
 * order.  A queue with a deduplication window sends messages that carry
 * x-pgmq-dedup-id through dedup.c instead.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_send);
PG_FUNCTION_INFO_V1(pgmq_send_delay);
PG_FUNCTION_INFO_V1(pgmq_send_at);
PG_FUNCTION_INFO_V1(pgmq_send_headers);
PG_FUNCTION_INFO_V1(pgmq_send_headers_delay);
PG_FUNCTION_INFO_V1(pgmq_send_headers_at);
PG_FUNCTION_INFO_V1(pgmq_send_batch);
PG_FUNCTION_INFO_V1(pgmq_send_batch_delay);
PG_FUNCTION_INFO_V1(pgmq_send_batch_at);
PG_FUNCTION_INFO_V1(pgmq_send_batch_headers);
PG_FUNCTION_INFO_V1(pgmq_send_batch_headers_delay);
PG_FUNCTION_INFO_V1(pgmq_send_batch_headers_at);

static const PgmqPlanSpec send_spec = {
	PGMQ_FIXED_PLAN "INSERT INTO %1$s (vt, message, headers) VALUES ($3, $1, $2) RETURNING msg_id",
	3, {JSONBOID, JSONBOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec send_batch_spec = {
	PGMQ_FIXED_PLAN "INSERT INTO %1$s (vt, message, headers)"
	" SELECT $3, u.m, u.h"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS u(m, h, n)"
	" ORDER BY u.n"
	" RETURNING msg_id",
	3, {JSONBARRAYOID, JSONBARRAYOID, TIMESTAMPTZOID}
};

/*
 * The vt Datum for argument argno given as kind: clock time + delay seconds,
 * the given timestamptz, or clock time.
 */
Datum
pgmq_send_visible_at(FunctionCallInfo fcinfo, PgmqDelayKind kind, int argno)
{
	switch (kind)
	{
		case PGMQ_DELAY_SECONDS:
			return pgmq_seconds_from_now(pgmq_nonneg_int_arg(fcinfo, argno, "delay"));
		case PGMQ_DELAY_AT:
			pgmq_require_arg(fcinfo, argno, "delay");
			return PG_GETARG_DATUM(argno);
		case PGMQ_DELAY_NONE:
			break;
	}
	return pgmq_seconds_from_now(0);
}

/* Check a jsonb[] argument: one dimension; returns its element count. */
static int
batch_length(ArrayType *arr, const char *what)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	return ARR_NDIM(arr) == 0 ? 0 : ARR_DIMS(arr)[0];
}

/*
 * Check and collect the message arguments of a send shape into a: msg (or
 * msgs, when batch) is argument 1 in every shape; headers_arg is the
 * argument number of headers or -1.  a->vt is left for the caller.
 */
void
pgmq_send_message_args(FunctionCallInfo fcinfo, bool batch, int headers_arg,
					   PgmqSendArgs *a)
{
	ArrayType  *msgs = NULL;
	int			nmsgs = 0;

	a->batch = batch;
	if (!batch)
	{
		pgmq_require_arg(fcinfo, 1, "msg");
		a->msg = PG_GETARG_DATUM(1);
	}
	else
	{
		if (PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_RAISE_EXCEPTION),	/* P0001, as pgmq 1.11 */
					 errmsg("msgs cannot be NULL or empty")));
		msgs = PG_GETARG_ARRAYTYPE_P(1);
		nmsgs = batch_length(msgs, "msgs");
		if (nmsgs == 0)
			ereport(ERROR,
					(errcode(ERRCODE_RAISE_EXCEPTION),	/* P0001, as pgmq 1.11 */
					 errmsg("msgs cannot be NULL or empty")));
		if (array_contains_nulls(msgs))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("msgs cannot contain NULL elements")));
		a->msg = PointerGetDatum(msgs);
	}

	a->headers = (Datum) 0;
	a->headers_null = true;
	if (headers_arg >= 0 && !PG_ARGISNULL(headers_arg))
	{
		if (batch)
		{
			ArrayType  *headers = PG_GETARG_ARRAYTYPE_P(headers_arg);
			int			nheaders = batch_length(headers, "headers");

			if (nheaders != nmsgs)
				ereport(ERROR,
						(errcode(ERRCODE_RAISE_EXCEPTION),	/* P0001, as pgmq 1.11 */
						 errmsg("headers array length (%d) must match msgs array length (%d)",
								nheaders, nmsgs)));
			a->headers = PointerGetDatum(headers);
		}
		else
			a->headers = PG_GETARG_DATUM(headers_arg);
		a->headers_null = false;
	}
}

/* The send plans' parameters ($1 msg(s), $2 headers, $3 vt) from a. */
static void
send_values(const PgmqSendArgs *a, Datum *values, char *nulls)
{
	values[0] = a->msg;
	values[1] = a->headers;
	values[2] = a->vt;
	nulls[0] = ' ';
	nulls[1] = a->headers_null ? 'n' : ' ';
	nulls[2] = ' ';
}

/*
 * Insert the message(s) of a into the opened queue q with its kept plan.
 * SPI must be connected; the new msg_ids (bigint, input order) are left in
 * SPI_tuptable and their number is returned.  The caller reports the send
 * with pgmq_wakeup_note_send(q) once it has finished with SPI.
 */
uint64
pgmq_send_to_queue(PgmqQueue *q, const PgmqSendArgs *a)
{
	Datum		values[3];
	char		nulls[3];
	uint64		n;

	send_values(a, values, nulls);
	pgmq_horizon_expect_write(q->qrelid, DatumGetTimestampTz(a->vt));
	n = pgmq_run(q, a->batch ? &send_batch_spec : &send_spec, values, nulls);
	pgmq_horizon_expect_done();
	return pgmq_stats_sent(q, n);
}

/* Send as pgmq_send_to_queue does, streaming the new ids into fcinfo's tuplestore. */
static uint64
send_into(FunctionCallInfo fcinfo, PgmqQueue *q, const PgmqSendArgs *a)
{
	Datum		values[3];
	char		nulls[3];
	uint64		n;

	send_values(a, values, nulls);
	pgmq_horizon_expect_write(q->qrelid, DatumGetTimestampTz(a->vt));
	n = pgmq_run_into(fcinfo, q, a->batch ? &send_batch_spec : &send_spec,
					  values, nulls);
	pgmq_horizon_expect_done();
	return pgmq_stats_sent(q, n);
}

/*
 * send(queue_name, msg [, headers] [, delay]): headers_arg is the argument
 * number of headers or -1; delay_arg is used when kind is not PGMQ_DELAY_NONE.
 */
static Datum
send_one(FunctionCallInfo fcinfo, int headers_arg, PgmqDelayKind kind, int delay_arg)
{
	PgmqQueue	q;
	PgmqSendArgs a;

	pgmq_init_srf(fcinfo);
	pgmq_require_arg(fcinfo, 1, "msg");
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	pgmq_send_message_args(fcinfo, false, headers_arg, &a);
	a.vt = pgmq_send_visible_at(fcinfo, kind, delay_arg);

	pgmq_connect();
	pgmq_priority_check_send(&q, &a);
	pgmq_retention_note_send(&q);
	if (pgmq_dedup_applies(&q, &a))
		pgmq_dedup_send_into(fcinfo, &q, &a);
	else
		send_into(fcinfo, &q, &a);
	pgmq_finish();
	pgmq_wakeup_note_send(&q);
	return (Datum) 0;
}

/* send_batch(queue_name, msgs [, headers] [, delay]) */
static Datum
send_batch(FunctionCallInfo fcinfo, int headers_arg, PgmqDelayKind kind, int delay_arg)
{
	PgmqQueue	q;
	PgmqSendArgs a;

	pgmq_init_srf(fcinfo);
	pgmq_send_message_args(fcinfo, true, headers_arg, &a);
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	a.vt = pgmq_send_visible_at(fcinfo, kind, delay_arg);

	pgmq_connect();
	pgmq_priority_check_send(&q, &a);
	pgmq_retention_note_send(&q);
	if (pgmq_dedup_applies(&q, &a))
		pgmq_dedup_send_into(fcinfo, &q, &a);
	else
		send_into(fcinfo, &q, &a);
	pgmq_finish();
	pgmq_wakeup_note_send(&q);
	return (Datum) 0;
}

/* pgmq.send(queue_name text, msg jsonb) RETURNS SETOF bigint */
Datum
pgmq_send(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, -1, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send(queue_name text, msg jsonb, delay integer) RETURNS SETOF bigint */
Datum
pgmq_send_delay(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, -1, PGMQ_DELAY_SECONDS, 2);
}

/* pgmq.send(queue_name text, msg jsonb, delay timestamptz) RETURNS SETOF bigint */
Datum
pgmq_send_at(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, -1, PGMQ_DELAY_AT, 2);
}

/* pgmq.send(queue_name text, msg jsonb, headers jsonb) RETURNS SETOF bigint */
Datum
pgmq_send_headers(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, 2, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer) */
Datum
pgmq_send_headers_delay(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, 2, PGMQ_DELAY_SECONDS, 3);
}

/* pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamptz) */
Datum
pgmq_send_headers_at(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, 2, PGMQ_DELAY_AT, 3);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[]) RETURNS SETOF bigint */
Datum
pgmq_send_batch(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, -1, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], delay integer) */
Datum
pgmq_send_batch_delay(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, -1, PGMQ_DELAY_SECONDS, 2);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamptz) */
Datum
pgmq_send_batch_at(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, -1, PGMQ_DELAY_AT, 2);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[]) */
Datum
pgmq_send_batch_headers(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, 2, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer) */
Datum
pgmq_send_batch_headers_delay(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, 2, PGMQ_DELAY_SECONDS, 3);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamptz) */
Datum
pgmq_send_batch_headers_at(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, 2, PGMQ_DELAY_AT, 3);
}
