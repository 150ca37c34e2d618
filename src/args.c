/*
 * args.c
 *	  The argument checks every SQL entry point shares: NULLs, integer
 *	  ranges, message id arrays, and "seconds from now" arguments.  Each bad
 *	  argument is refused with an error naming it and an SQLSTATE, before the
 *	  function locks or changes anything.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/timestamp.h"

#include "pgmq.h"

/* Refuse a NULL argument with an error naming it. */
void
pgmq_require_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot be NULL", what)));
}

/* An integer argument that must be at least 1. */
int32
pgmq_positive_int_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int32		v;

	pgmq_require_arg(fcinfo, argno, what);
	v = PG_GETARG_INT32(argno);
	if (v <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be greater than 0, got %d", what, v)));
	return v;
}

/* An integer argument that must be 0 or more (seconds of vt or delay). */
int32
pgmq_nonneg_int_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int32		v;

	pgmq_require_arg(fcinfo, argno, what);
	v = PG_GETARG_INT32(argno);
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative, got %d", what, v)));
	return v;
}

/* A bigint[] argument of message ids: not NULL, one dimension, no NULL element. */
Datum
pgmq_id_array_arg(FunctionCallInfo fcinfo, int argno, const char *what)
{
	ArrayType  *arr;

	pgmq_require_arg(fcinfo, argno, what);
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s cannot contain NULL elements", what)));
	return PointerGetDatum(arr);
}

/* clock_timestamp() + seconds, as a timestamptz Datum. */
Datum
pgmq_seconds_from_now(int32 seconds)
{
	return TimestampTzGetDatum(GetCurrentTimestamp() +
							   (TimestampTz) seconds * USECS_PER_SEC);
}
