/*
 * dead_letter_redrive.c
 *	  pgmq.redrive: dead-lettered messages back to the queue each came from,
 *	  or all to one queue.
 *
 * The queue a message came from is read back from its x-pgmq-dead-letter
 * header, i.e. from a table: it passes the queue name rule
 * (pgmq_check_name) before any lookup, and a bad one fails the call.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "dead_letter.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_redrive);

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
	"  ELSE headers OPERATOR(pg_catalog.-) 'x-pgmq-dead-letter'::pg_catalog.text END"
	" FROM d ORDER BY msg_id",
	1, {INT8OID}
};

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
	pgmq_run(target, &pgmq_dl_insert_spec, values, NULL);
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
