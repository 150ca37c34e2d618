/*
 * send.c
 *	  Producing: every overload of pgmq.send and pgmq.send_batch.
 *
 * Each SQL overload has its own entry point; all of them end in one kept
 * INSERT plan per queue (single or batch).  The visibility time is computed
 * here (clock time + delay, or the given timestamptz) and passed as a
 * parameter, so both delay forms share one plan.  msg_ids come back in input
 * order.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pgmq.h"

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

/* How the caller gave the visibility time. */
typedef enum DelayKind
{
	DELAY_NONE,					/* visible at once */
	DELAY_SECONDS,				/* integer seconds from now */
	DELAY_AT					/* absolute timestamptz */
} DelayKind;

/* The vt Datum for argument argno given as kind. */
static Datum
visible_at(FunctionCallInfo fcinfo, DelayKind kind, int argno)
{
	switch (kind)
	{
		case DELAY_SECONDS:
			return pgmq_seconds_from_now(pgmq_nonneg_int_arg(fcinfo, argno, "delay"));
		case DELAY_AT:
			pgmq_require_arg(fcinfo, argno, "delay");
			return PG_GETARG_DATUM(argno);
		case DELAY_NONE:
			break;
	}
	return pgmq_seconds_from_now(0);
}

/*
 * send(queue_name, msg [, headers] [, delay]): headers_arg is the argument
 * number of headers or -1; delay_arg is used when kind is not DELAY_NONE.
 */
static Datum
send_one(FunctionCallInfo fcinfo, int headers_arg, DelayKind kind, int delay_arg)
{
	PgmqQueue	q;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	pgmq_init_srf(fcinfo);
	pgmq_require_arg(fcinfo, 1, "msg");
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);

	values[0] = PG_GETARG_DATUM(1);
	if (headers_arg >= 0 && !PG_ARGISNULL(headers_arg))
		values[1] = PG_GETARG_DATUM(headers_arg);
	else
	{
		values[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	values[2] = visible_at(fcinfo, kind, delay_arg);

	pgmq_connect();
	pgmq_run_into(fcinfo, &q, &send_spec, values, nulls);
	pgmq_finish();
	pgmq_wakeup_note_send(&q);
	return (Datum) 0;
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

/* send_batch(queue_name, msgs [, headers] [, delay]) */
static Datum
send_batch(FunctionCallInfo fcinfo, int headers_arg, DelayKind kind, int delay_arg)
{
	PgmqQueue	q;
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	ArrayType  *msgs;
	int			nmsgs;

	pgmq_init_srf(fcinfo);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("msgs cannot be NULL or empty")));
	msgs = PG_GETARG_ARRAYTYPE_P(1);
	nmsgs = batch_length(msgs, "msgs");
	if (nmsgs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("msgs cannot be NULL or empty")));
	if (array_contains_nulls(msgs))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("msgs cannot contain NULL elements")));
	values[0] = PointerGetDatum(msgs);

	if (headers_arg >= 0 && !PG_ARGISNULL(headers_arg))
	{
		ArrayType  *headers = PG_GETARG_ARRAYTYPE_P(headers_arg);
		int			nheaders = batch_length(headers, "headers");

		if (nheaders != nmsgs)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("headers array length (%d) must match msgs array length (%d)",
							nheaders, nmsgs)));
		values[1] = PointerGetDatum(headers);
	}
	else
	{
		values[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	values[2] = visible_at(fcinfo, kind, delay_arg);

	pgmq_connect();
	pgmq_run_into(fcinfo, &q, &send_batch_spec, values, nulls);
	pgmq_finish();
	pgmq_wakeup_note_send(&q);
	return (Datum) 0;
}

/* pgmq.send(queue_name text, msg jsonb) RETURNS SETOF bigint */
Datum
pgmq_send(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, -1, DELAY_NONE, -1);
}

/* pgmq.send(queue_name text, msg jsonb, delay integer) RETURNS SETOF bigint */
Datum
pgmq_send_delay(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, -1, DELAY_SECONDS, 2);
}

/* pgmq.send(queue_name text, msg jsonb, delay timestamptz) RETURNS SETOF bigint */
Datum
pgmq_send_at(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, -1, DELAY_AT, 2);
}

/* pgmq.send(queue_name text, msg jsonb, headers jsonb) RETURNS SETOF bigint */
Datum
pgmq_send_headers(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, 2, DELAY_NONE, -1);
}

/* pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer) */
Datum
pgmq_send_headers_delay(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, 2, DELAY_SECONDS, 3);
}

/* pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamptz) */
Datum
pgmq_send_headers_at(PG_FUNCTION_ARGS)
{
	return send_one(fcinfo, 2, DELAY_AT, 3);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[]) RETURNS SETOF bigint */
Datum
pgmq_send_batch(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, -1, DELAY_NONE, -1);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], delay integer) */
Datum
pgmq_send_batch_delay(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, -1, DELAY_SECONDS, 2);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamptz) */
Datum
pgmq_send_batch_at(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, -1, DELAY_AT, 2);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[]) */
Datum
pgmq_send_batch_headers(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, 2, DELAY_NONE, -1);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer) */
Datum
pgmq_send_batch_headers_delay(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, 2, DELAY_SECONDS, 3);
}

/* pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamptz) */
Datum
pgmq_send_batch_headers_at(PG_FUNCTION_ARGS)
{
	return send_batch(fcinfo, 2, DELAY_AT, 3);
}
