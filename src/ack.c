/*
 * ack.c
 *	  Acknowledging messages: both forms of pgmq.delete and pgmq.archive.
 *
 * The single-id forms have their own plans (a plain msg_id = $1, no
 * RETURNING: the row count is the answer); the array forms return the ids
 * they acknowledged.  archive moves rows from q_<name> to a_<name> in one
 * statement, so a message is in exactly one of the two tables at every
 * moment.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"

#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_delete);
PG_FUNCTION_INFO_V1(pgmq_delete_ids);
PG_FUNCTION_INFO_V1(pgmq_archive);
PG_FUNCTION_INFO_V1(pgmq_archive_ids);

#define ARCHIVE_SQL(cond, returning) \
	PGMQ_FIXED_PLAN "WITH d AS (DELETE FROM %1$s WHERE msg_id OPERATOR(pg_catalog.=) " cond \
	" RETURNING " PGMQ_MESSAGE_COLUMNS ")" \
	" INSERT INTO %2$s (" PGMQ_MESSAGE_COLUMNS ")" \
	" SELECT " PGMQ_MESSAGE_COLUMNS " FROM d" \
	returning

static const PgmqPlanSpec delete_one_spec = {
	PGMQ_FIXED_PLAN "DELETE FROM %1$s WHERE msg_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static const PgmqPlanSpec delete_spec = {
	PGMQ_FIXED_PLAN
	"DELETE FROM %1$s WHERE msg_id OPERATOR(pg_catalog.=) ANY ($1) RETURNING msg_id",
	1, {INT8ARRAYOID}
};

static const PgmqPlanSpec archive_one_spec = {
	ARCHIVE_SQL("$1", ""), 1, {INT8OID}
};

static const PgmqPlanSpec archive_spec = {
	ARCHIVE_SQL("ANY ($1)", " RETURNING msg_id"), 1, {INT8ARRAYOID}
};

/* Single-id form: true when the message was there. */
static bool
ack_one(FunctionCallInfo fcinfo, const PgmqPlanSpec *spec)
{
	PgmqQueue	q;
	Datum		id;
	uint64		n;

	pgmq_require_arg(fcinfo, 1, "msg_id");
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	id = PG_GETARG_DATUM(1);
	pgmq_connect();
	n = pgmq_run(&q, spec, &id, NULL);
	pgmq_stats_count(&q, spec == &archive_one_spec ? PGMQ_STAT_ARCHIVE : PGMQ_STAT_DELETE, n);
	if (spec == &archive_one_spec)
		pgmq_vacuum_note_consumed(n);	/* its DELETE is in a CTE */
	pgmq_finish();
	return n > 0;
}

/* Array form: emit the ids actually acknowledged. */
static Datum
ack_many(FunctionCallInfo fcinfo, const PgmqPlanSpec *spec)
{
	PgmqQueue	q;
	Datum		ids;
	uint64		n;

	pgmq_init_srf(fcinfo);
	ids = pgmq_id_array_arg(fcinfo, 1, "msg_ids");
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	pgmq_connect();
	n = pgmq_run_into(fcinfo, &q, spec, &ids, NULL);
	pgmq_stats_count(&q, spec == &archive_spec ? PGMQ_STAT_ARCHIVE : PGMQ_STAT_DELETE, n);
	if (spec == &archive_spec)
		pgmq_vacuum_note_consumed(n);	/* its DELETE is in a CTE */
	pgmq_finish();
	return (Datum) 0;
}

/* pgmq.delete(queue_name text, msg_id bigint) RETURNS boolean */
Datum
pgmq_delete(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ack_one(fcinfo, &delete_one_spec));
}

/* pgmq.delete(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint */
Datum
pgmq_delete_ids(PG_FUNCTION_ARGS)
{
	return ack_many(fcinfo, &delete_spec);
}

/* pgmq.archive(queue_name text, msg_id bigint) RETURNS boolean */
Datum
pgmq_archive(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ack_one(fcinfo, &archive_one_spec));
}

/* pgmq.archive(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint */
Datum
pgmq_archive_ids(PG_FUNCTION_ARGS)
{
	return ack_many(fcinfo, &archive_spec);
}
