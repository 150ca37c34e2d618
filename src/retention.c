/*
 * retention.c
 *	  Message and archive retention: pgmq.set_retention, pgmq.apply_retention,
 *	  the retention step of the queue vacuum worker (pgmq_retention_round),
 *	  the filtered read/pop paths of queues with a message retention, and
 *	  the retention_expired column of pgmq.metrics.
 *
 * Settings: a row of pgmq.retention_settings per queue (message_retention,
 * archive_retention; NULL = keep forever), cached in the queue's
 * PgmqQueueState; every change invalidates the queue table's relcache entry.
 *
 * Removal, in bounded steps (one step = one short statement per table,
 * never more than RETENTION_ROWS rows or RETENTION_BLOCKS blocks looked at):
 *	  - messages whose enqueued_at is older than message_retention: among the
 *		RETENTION_ROWS lowest msg_ids (the oldest sends: msg_id follows send
 *		order), locked SKIP LOCKED (a message a consumer holds is left for a
 *		later step), deleted, not archived;
 *	  - archive rows whose archived_at is older than archive_retention: in
 *		the next RETENTION_BLOCKS blocks of a_<name> (a TID range scan that
 *		goes round the table, since archive order is not msg_id order).
 * The worker runs steps in their own transactions; pgmq.apply_retention
 * runs one step in the caller's transaction.  Each step adds the messages it
 * expired to pgmq.retention_counts (one row per queue), which metrics
 * reports as retention_expired.
 *
 * Delivery: read, read_with_poll and pop on a queue with a message
 * retention read through the plans below, which skip expired messages
 * (enqueued_at older than the retention at the time of the read), so an
 * expired message is never delivered by them even before a step removes it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class_d.h"
#include "catalog/pg_type_d.h"
#include "common/int.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_set_retention);
PG_FUNCTION_INFO_V1(pgmq_apply_retention);

#define RETENTION_ROWS "1000"
#define RETENTION_BLOCKS 128
/* steps per queue and table in one worker round */
#define RETENTION_STEPS_PER_ROUND 8
#define RETENTION_MIN_US ((int64) 60 * USECS_PER_SEC)
#define RETENTION_MAX_US ((int64) 14 * USECS_PER_DAY)

/*
 * Expire messages enqueued before $1 among the RETENTION_ROWS lowest
 * msg_ids (skipping those a consumer holds); returns how many.
 */
static const PgmqPlanSpec expire_messages_spec = {
	PGMQ_FIXED_PLAN
	"DELETE FROM %1$s WHERE msg_id OPERATOR(pg_catalog.=) ANY (ARRAY("
	" SELECT l.msg_id FROM %1$s l WHERE l.msg_id OPERATOR(pg_catalog.=) ANY (ARRAY("
	"  SELECT h.msg_id FROM (SELECT msg_id, enqueued_at FROM %1$s"
	"   ORDER BY msg_id LIMIT " RETENTION_ROWS ") h"
	"  WHERE h.enqueued_at OPERATOR(pg_catalog.<) $1))"
	" AND l.enqueued_at OPERATOR(pg_catalog.<) $1 FOR UPDATE SKIP LOCKED))",
	1, {TIMESTAMPTZOID}
};

/* Remove archive rows archived before $1 in blocks [$2, $3). */
static const PgmqPlanSpec expire_archive_spec = {
	PGMQ_FIXED_PLAN
	"/* %1$s */ DELETE FROM %2$s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
	" SELECT ctid FROM %2$s WHERE ctid OPERATOR(pg_catalog.>=) $2"
	" AND ctid OPERATOR(pg_catalog.<) $3 AND archived_at OPERATOR(pg_catalog.<) $1"
	" FOR UPDATE SKIP LOCKED))",
	3, {TIMESTAMPTZOID, TIDOID, TIDOID}
};

/*
 * The read paths with the retention filter: $1 qty, $2 new vt, $3 now,
 * $4 oldest enqueued_at still delivered, [$5 conditional].  The position
 * in read order comes back as the last column (pgmq_emit_rows).
 */
#define PICK(filter) \
	"pg_catalog.unnest(ARRAY(SELECT msg_id FROM %1$s WHERE vt OPERATOR(pg_catalog.<=) $3" \
	" AND enqueued_at OPERATOR(pg_catalog.>=) $4" filter \
	" ORDER BY vt, msg_id LIMIT $1 FOR UPDATE SKIP LOCKED)) WITH ORDINALITY AS c(msg_id, n)"
#define READ_SQL(filter) \
	PGMQ_FIXED_PLAN "UPDATE %1$s m SET vt = $2," \
	" read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3" \
	" FROM " PICK(filter) " WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id" \
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", c.n"

static const PgmqPlanSpec read_spec = {
	READ_SQL(""), 4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec read_cond_spec = {
	READ_SQL(" AND message OPERATOR(pg_catalog.@>) $5"),
	5, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID}
};

/* pop: $1 qty, $2 unused, $3 now, $4 oldest enqueued_at delivered */
static const PgmqPlanSpec pop_spec = {
	PGMQ_FIXED_PLAN "DELETE FROM %1$s m USING " PICK("")
	" WHERE m.msg_id OPERATOR(pg_catalog.=) c.msg_id"
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", c.n",
	4, {INT4OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID}
};

/* The queue names with a retention, for the worker. */
#define SETTINGS_EXIST() OidIsValid(pgmq_table_oid_plain("retention_settings"))

/* OID of pgmq.<relname>, or InvalidOid. */
static Oid
pgmq_table_oid_plain(const char *relname)
{
	Oid			nsp = pgmq_namespace_oid(true);

	return OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
}

/*
 * Microseconds of an interval Datum (months as 30 days, like interval_cmp);
 * PG_INT64_MAX when that overflows.
 */
static int64
interval_us(Datum d)
{
	Interval   *iv = DatumGetIntervalP(d);
	int64		days;
	int64		us;

	if (pg_add_s64_overflow((int64) iv->month * DAYS_PER_MONTH, iv->day, &days) ||
		pg_mul_s64_overflow(days, USECS_PER_DAY, &us) ||
		pg_add_s64_overflow(us, iv->time, &us))
		return PG_INT64_MAX;
	return us;
}

/* Fill q's cached retention (connected to SPI). */
static PgmqQueueState *
retention_state(PgmqQueue *q)
{
	PgmqQueueState *st = pgmq_queue_state(q);
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	if (st->retention_known)
		return st;
	st->message_retention_us = 0;
	st->archive_retention_us = 0;
	if (SETTINGS_EXIST())
	{
		values[0] = CStringGetTextDatum(q->name);
		pgmq_run_sql("SELECT message_retention, archive_retention FROM pgmq.retention_settings"
					 " WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
					 SPI_OK_SELECT, 1, types, values, NULL);
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		d;

			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			if (!isnull)
				st->message_retention_us = interval_us(d);
			d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
			if (!isnull)
				st->archive_retention_us = interval_us(d);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	st->retention_known = true;
	return st;
}

/* Does open queue q have a message retention?  Connected to SPI. */
bool
pgmq_retention_applies(PgmqQueue *q)
{
	return retention_state(q)->message_retention_us > 0;
}

/*
 * A send to open queue q (connected to SPI): a queue with a message
 * retention needs the worker even when nobody reads it (consumers away is
 * when messages expire), so its sends make sure the database has one, as
 * consuming does.  Other queues pay one cached flag test.
 */
void
pgmq_retention_note_send(PgmqQueue *q)
{
	if (pgmq_retention_applies(q))
		pgmq_vacuum_want_worker(false);
}

/*
 * Does open queue q have a message retention?  Then *oldest is the oldest
 * enqueued_at a read may still deliver now.  Connected to SPI.
 */
bool
pgmq_retention_cutoff(PgmqQueue *q, TimestampTz now, TimestampTz *oldest)
{
	PgmqQueueState *st = retention_state(q);

	if (st->message_retention_us <= 0)
		return false;
	*oldest = now - st->message_retention_us;
	return true;
}

/*
 * A read (qty, vt seconds, jsonb conditional or 0) of open queue q with a
 * message retention: never returns an expired message.  Rows go into
 * fcinfo's tuplestore in read order; returns how many.
 */
uint64
pgmq_retention_read(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty, int32 vt,
					Datum conditional)
{
	TimestampTz now = GetCurrentTimestamp();
	Datum		values[5];
	uint64		n;
	TimestampTz oldest;

	values[0] = Int32GetDatum(qty);
	values[1] = TimestampTzGetDatum(now + (TimestampTz) vt * USECS_PER_SEC);
	values[2] = TimestampTzGetDatum(now);
	if (!pgmq_retention_cutoff(q, now, &oldest))
		elog(ERROR, "pgmq: queue \"%s\" has no message retention", q->name);
	values[3] = TimestampTzGetDatum(oldest);
	values[4] = conditional;
	n = pgmq_run(q, conditional != (Datum) 0 ? &read_cond_spec : &read_spec, values, NULL);
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* pop of qty messages of open queue q with a message retention. */
uint64
pgmq_retention_pop(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz oldest;
	Datum		values[4];
	uint64		n;

	if (!pgmq_retention_cutoff(q, now, &oldest))
		elog(ERROR, "pgmq: queue \"%s\" has no message retention", q->name);
	values[0] = Int32GetDatum(qty);
	values[1] = TimestampTzGetDatum(now);
	values[2] = TimestampTzGetDatum(now);
	values[3] = TimestampTzGetDatum(oldest);
	n = pgmq_run(q, &pop_spec, values, NULL);
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* A tid Datum for the first item of block blk. */
static Datum
block_tid(BlockNumber blk)
{
	ItemPointer tid = palloc(sizeof(ItemPointerData));

	ItemPointerSet(tid, blk, 1);
	return PointerGetDatum(tid);
}

/* Add expired to the queue's row of pgmq.retention_counts. */
static void
count_expired(PgmqQueue *q, uint64 expired)
{
	Oid			types[2] = {TEXTOID, INT8OID};
	Datum		values[2];

	if (expired == 0)
		return;
	values[0] = CStringGetTextDatum(q->name);
	values[1] = Int64GetDatum((int64) expired);
	pgmq_run_sql("INSERT INTO pgmq.retention_counts AS c (queue_name, expired) VALUES (" PGMQ_META_NAME("$1") ", $2)"
				 " ON CONFLICT (queue_name) DO UPDATE"
				 " SET expired = c.expired OPERATOR(pg_catalog.+) EXCLUDED.expired",
				 SPI_OK_INSERT, 2, types, values, NULL);
}

/*
 * One retention step on open queue q (locked RowExclusiveLock), connected
 * to SPI: expire old messages, remove old archive rows, each bounded.
 * *more is set when a table may have more to remove right away.  Returns
 * the rows removed.
 */
static uint64
retention_step(PgmqQueue *q, bool *more)
{
	PgmqQueueState *st = retention_state(q);
	TimestampTz now = GetCurrentTimestamp();
	uint64		expired = 0;
	uint64		archived = 0;
	Datum		values[3];

	*more = false;
	if (st->message_retention_us > 0)
	{
		values[0] = TimestampTzGetDatum(now - st->message_retention_us);
		expired = pgmq_run(q, &expire_messages_spec, values, NULL);
		count_expired(q, expired);
		*more |= (expired > 0);
	}
	if (st->archive_retention_us > 0)
	{
		Oid			arelid = pgmq_table_oid("a", q->name);
		BlockNumber nblocks = 0;
		BlockNumber from;

		if (OidIsValid(arelid))
		{
			Relation	rel = table_open(arelid, RowExclusiveLock);

			nblocks = RelationGetNumberOfBlocks(rel);
			table_close(rel, NoLock);
		}
		from = st->archive_retention_block;
		if (from >= nblocks)
			from = 0;
		st->archive_retention_block = from + RETENTION_BLOCKS;
		if (nblocks > 0)
		{
			values[0] = TimestampTzGetDatum(now - st->archive_retention_us);
			values[1] = block_tid(from);
			values[2] = block_tid(from + RETENTION_BLOCKS);
			archived = pgmq_run(q, &expire_archive_spec, values, NULL);
			/* the rest of the table is still to be looked at this round */
			*more |= (from + RETENTION_BLOCKS < nblocks);
		}
	}
	return expired + archived;
}

/* The retention_expired metric of open queue q (connected to SPI). */
int64
pgmq_retention_expired(PgmqQueue *q)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	int64		n = 0;

	if (!OidIsValid(pgmq_table_oid_plain("retention_counts")))
		return 0;
	values[0] = CStringGetTextDatum(q->name);
	pgmq_run_sql("SELECT expired FROM pgmq.retention_counts WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
				 SPI_OK_SELECT, 1, types, values, NULL);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			n = DatumGetInt64(d);
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * The queue vacuum worker's retention step (called between its rounds, in
 * no transaction): for every queue with a retention, up to
 * RETENTION_STEPS_PER_ROUND steps, each in its own transaction.  Returns
 * the rows removed; *any tells whether the database has a queue with a
 * retention (then the worker stays: messages expire without any call).
 */
uint64
pgmq_retention_round(bool *any)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pgmq retention",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old;
	List	   *names = NIL;
	ListCell   *lc;
	uint64		total = 0;
	uint64		i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SETTINGS_EXIST())
	{
		pgmq_connect();
		pgmq_run_sql("SELECT queue_name::pg_catalog.text FROM pgmq.retention_settings ORDER BY 1",
					 SPI_OK_SELECT, 0, NULL, NULL, NULL);
		old = MemoryContextSwitchTo(cxt);
		for (i = 0; i < SPI_processed; i++)
			names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(old);
		pgmq_finish();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	*any = (names != NIL);

	foreach(lc, names)
	{
		const char *name = lfirst(lc);
		int			step;
		bool		more = true;

		for (step = 0; step < RETENTION_STEPS_PER_ROUND && more; step++)
		{
			PgmqQueue	q;

			CHECK_FOR_INTERRUPTS();
			SetCurrentStatementStartTimestamp();
			StartTransactionCommand();
			PushActiveSnapshot(GetTransactionSnapshot());
			pgstat_report_activity(STATE_RUNNING, "pgmq: applying retention");
			more = false;
			/* a name read back from a table passes the argument's rule too */
			if (pgmq_name_from_table(name, "pgmq.retention_settings", q.name) &&
				pgmq_open_named(&q, RowExclusiveLock, true) &&
				get_rel_relkind(q.qrelid) == RELKIND_RELATION)
			{
				pgmq_connect();
				total += retention_step(&q, &more);
				pgmq_finish();
			}
			PopActiveSnapshot();
			CommitTransactionCommand();
		}
	}
	MemoryContextDelete(cxt);
	return total;
}

/* pgmq.apply_retention(queue_name text) RETURNS bigint: one step, now. */
Datum
pgmq_apply_retention(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	bool		more;
	uint64		n;

	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	pgmq_connect();
	n = retention_step(&q, &more);
	pgmq_finish();
	PG_RETURN_INT64((int64) n);
}

/* Check a retention argument: NULL, or 1 minute to 14 days. */
static void
check_retention(FunctionCallInfo fcinfo, int argno, const char *what)
{
	int64		us;

	if (PG_ARGISNULL(argno))
		return;
	us = interval_us(PG_GETARG_DATUM(argno));
	if (us < RETENTION_MIN_US || us > RETENTION_MAX_US)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 minute and 14 days, got %s", what,
						DatumGetCString(DirectFunctionCall1(interval_out,
															PG_GETARG_DATUM(argno)))),
				 errhint("NULL keeps messages forever.")));
}

/*
 * pgmq.set_retention(queue_name text, message_retention interval,
 *		archive_retention interval) RETURNS void
 */
Datum
pgmq_set_retention(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	Oid			types[3] = {TEXTOID, INTERVALOID, INTERVALOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	pgmq_name_arg(fcinfo, 0, q.name);
	check_retention(fcinfo, 1, "message_retention");
	check_retention(fcinfo, 2, "archive_retention");
	if (!SETTINGS_EXIST())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("retention needs pgmq 1.13.1"),
				 errhint("Run ALTER EXTENSION pgmq UPDATE.")));
	(void) pgmq_open_named(&q, RowExclusiveLock, false);
	if (get_rel_relkind(q.qrelid) == RELKIND_PARTITIONED_TABLE &&
		!(PG_ARGISNULL(1) && PG_ARGISNULL(2)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("queue \"%s\" is partitioned: its retention is pg_partman's", q.name),
				 errhint("Give create_partitioned a retention_interval, or set retention in pg_partman's part_config.")));
	values[0] = CStringGetTextDatum(q.name);
	values[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	values[2] = PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2);
	nulls[1] = PG_ARGISNULL(1) ? 'n' : ' ';
	nulls[2] = PG_ARGISNULL(2) ? 'n' : ' ';

	pgmq_connect();
	if (PG_ARGISNULL(1) && PG_ARGISNULL(2))
		pgmq_run_sql("DELETE FROM pgmq.retention_settings WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
					 SPI_OK_DELETE, 1, types, values, NULL);
	else
		pgmq_run_sql("INSERT INTO pgmq.retention_settings AS s"
					 " (queue_name, message_retention, archive_retention) VALUES (" PGMQ_META_NAME("$1") ", $2, $3)"
					 " ON CONFLICT (queue_name) DO UPDATE"
					 " SET message_retention = EXCLUDED.message_retention,"
					 " archive_retention = EXCLUDED.archive_retention",
					 SPI_OK_INSERT, 3, types, values, nulls);
	pgmq_finish();
	/* every backend looks the retention up again */
	CacheInvalidateRelcacheByRelid(q.qrelid);
	/* the worker applies it from now on, whether the queue is read or not */
	if (!(PG_ARGISNULL(1) && PG_ARGISNULL(2)))
		pgmq_vacuum_want_worker(true);
	PG_RETURN_VOID();
}
