/*
 * notify.c
 *	  Insert notifications: enable_notify_insert, disable_notify_insert,
 *	  update_notify_insert and the trigger function notify_queue_listeners.
 *
 * Design: enable_notify_insert puts a statement-level AFTER INSERT trigger
 * (PGMQ_NOTIFY_TRIGGER) on pgmq.q_<name> and a row in
 * pgmq.notify_insert_throttle (queue_name references pgmq.meta ON DELETE
 * CASCADE, so drop_queue removes it; the trigger goes with the table).
 * Queues without notifications have no trigger and pay nothing on send.
 *
 * When an INSERT statement into a notifying queue ends, the trigger decides
 * whether the throttle interval has passed since last_notified_at and, if
 * so, claims the throttle row, stamps it and queues a NOTIFY on channel
 * "pgmq.q_<name>.INSERT" with an empty payload, <name> spelled as pgmq.meta
 * keeps it (the case of the create call), as the PL/pgSQL pgmq 1.13.1 does.  NOTIFY is transactional:
 * listeners hear it when the sending transaction commits, never when it
 * rolls back (and the stamp rolls back with it).  Several sends in one
 * transaction give one notification (PostgreSQL folds identical ones).
 *
 * Invariants:
 *	- A send never waits for another sender: the claim is
 *	  SELECT ... FOR UPDATE SKIP LOCKED, so while one transaction holds the
 *	  claim the others skip notifying (the holder's NOTIFY goes out when it
 *	  commits).  Notifications are a wake-up hint, at most one per interval.
 *	- The throttle row is read and written as the owner of
 *	  pgmq.notify_insert_throttle (as ri_triggers.c runs RI queries as the
 *	  table owner), so a role that may INSERT into a queue needs no privilege
 *	  on the throttle table; the SQL run is fixed, and the queue name comes
 *	  from the table the trigger fires on, never from an argument.
 *	- Under REPEATABLE READ / SERIALIZABLE the throttle queries use the
 *	  latest snapshot, so a sender does not fail because another session
 *	  notified after its transaction began.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_enable_notify_insert);
PG_FUNCTION_INFO_V1(pgmq_disable_notify_insert);
PG_FUNCTION_INFO_V1(pgmq_update_notify_insert);
PG_FUNCTION_INFO_V1(pgmq_notify_queue_listeners);

#define PGMQ_NOTIFY_TRIGGER "pgmq_notify_insert"
#define PGMQ_THROTTLE_TABLE "notify_insert_throttle"

/* "the interval has passed": $1 queue name, $2 now */
#define THROTTLE_DUE \
	"(last_notified_at IS NULL OR last_notified_at OPERATOR(pg_catalog.<=)" \
	" ($2 OPERATOR(pg_catalog.-) (throttle_interval_ms OPERATOR(pg_catalog.*)" \
	" '1 millisecond'::pg_catalog.interval)))"

/*
 * Is notifying due?  No row: notifications are off for the queue.  $1 is the
 * lower-cased name (the table's); the row has pgmq.meta's spelling, which
 * the third column returns for the channel name.
 */
static const char *const throttle_check_sql =
"SELECT throttle_interval_ms OPERATOR(pg_catalog.=) 0, " THROTTLE_DUE ", queue_name::pg_catalog.text"
" FROM pgmq.notify_insert_throttle WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1");

/* Take the right to notify for this interval, unless someone holds it. */
static const char *const throttle_claim_sql =
"SELECT 1 FROM pgmq.notify_insert_throttle"
" WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1") " AND " THROTTLE_DUE
" FOR UPDATE SKIP LOCKED";

/* Stamp a claimed row. */
static const char *const throttle_stamp_sql =
"UPDATE pgmq.notify_insert_throttle SET last_notified_at = $2"
" WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1");

static SPIPlanPtr throttle_plans[3];

/* Kept plan number i (0 check, 1 claim, 2 stamp), prepared on first use. */
static SPIPlanPtr
throttle_plan(int i)
{
	static const char *const sql[3] = {
		throttle_check_sql, throttle_claim_sql, throttle_stamp_sql
	};
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	SPIPlanPtr	plan = throttle_plans[i];

	if (plan != NULL && SPI_plan_is_valid(plan))
		return plan;
	if (plan != NULL)
		SPI_freeplan(plan);
	throttle_plans[i] = NULL;
	plan = SPI_prepare(sql[i], 2, types);
	if (plan == NULL)
		elog(ERROR, "pgmq: SPI_prepare failed for \"%s\": %s",
			 sql[i], SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "pgmq: SPI_keepplan failed");
	throttle_plans[i] = plan;
	return plan;
}

/* Run throttle plan i for queue name at now with snapshot snap; rows returned. */
static uint64
throttle_run(int i, Datum name, Datum now, Snapshot snap)
{
	Datum		values[2] = {name, now};
	int			rc;

	rc = SPI_execute_snapshot(throttle_plan(i), values, NULL, snap,
							  InvalidSnapshot, false, false, 0);
	if (rc < 0)
		elog(ERROR, "pgmq: throttle query failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* Boolean column col of the first row of SPI_tuptable. */
static bool
first_row_bool(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
								  col, &isnull);

	return !isnull && DatumGetBool(d);
}

/*
 * Decide whether a send to queue name (lower-cased) should notify now,
 * claiming and stamping the throttle row if so; if it should, write the
 * name as pgmq.meta spells it to shown (NAMEDATALEN bytes).  Runs as the
 * caller; switches user itself.
 */
static bool
throttle_allows(const char *name, char *shown)
{
	Oid			owner = pgmq_extension_table_owner(PGMQ_THROTTLE_TABLE);
	Oid			save_userid;
	int			save_sec_context;
	Snapshot	snap = InvalidSnapshot;
	Datum		dname;
	Datum		now;
	bool		notify = false;

	if (!OidIsValid(owner))
		return false;
	dname = CStringGetTextDatum(name);
	now = TimestampTzGetDatum(GetCurrentTimestamp());

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	pgmq_connect();
	if (IsolationUsesXactSnapshot())
	{
		CommandCounterIncrement();
		snap = GetLatestSnapshot();
	}
	if (throttle_run(0, dname, now, snap) > 0)
	{
		bool		unthrottled = first_row_bool(1);
		bool		due = first_row_bool(2);
		char	   *stored = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

		strlcpy(shown, stored != NULL ? stored : name, NAMEDATALEN);

		if (due && throttle_run(1, dname, now, snap) > 0)
		{
			(void) throttle_run(2, dname, now, snap);
			notify = true;
		}
		/* with no throttle every send notifies, holder of the row or not */
		if (unthrottled)
			notify = true;
	}
	pgmq_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return notify;
}

/*
 * pgmq.notify_queue_listeners() RETURNS trigger
 * AFTER INSERT trigger of a notifying queue table pgmq.q_<name>: NOTIFY
 * "pgmq.q_<name>.INSERT" (at commit) unless throttled.  Works as a statement
 * or row trigger, plain or constraint (deferred) trigger.
 */
Datum
pgmq_notify_queue_listeners(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	const char *relname;
	char		shown[NAMEDATALEN];

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("notify_queue_listeners can only be called as a trigger")));
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("notify_queue_listeners must be an AFTER INSERT trigger")));
	rel = trigdata->tg_relation;
	relname = RelationGetRelationName(rel);
	if (RelationGetNamespace(rel) != pgmq_namespace_oid(false) ||
		strncmp(relname, "q_", 2) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("notify_queue_listeners must be a trigger on a queue table pgmq.q_<name>")));

	if (throttle_allows(relname + 2, shown))
	{
		char		channel[NAMEDATALEN];

		/* as the PL/pgSQL pgmq 1.13.1: the name as pgmq.meta spells it */
		snprintf(channel, sizeof(channel), "pgmq.q_%s.INSERT", shown);
		Async_Notify(channel, "");
	}
	return PointerGetDatum(NULL);
}

/* Whether q's table has the notify trigger (SPI connected). */
static bool
has_notify_trigger(PgmqQueue *q)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];

	values[0] = ObjectIdGetDatum(q->qrelid);
	pgmq_run_sql("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid OPERATOR(pg_catalog.=) $1"
				 " AND tgname OPERATOR(pg_catalog.=) '" PGMQ_NOTIFY_TRIGGER "'",
				 SPI_OK_SELECT, 1, types, values, NULL);
	return SPI_processed > 0;
}

/* The throttle_interval_ms argument: not NULL, not negative (P0001, as pgmq 1.11). */
static int32
throttle_arg(FunctionCallInfo fcinfo, int argno)
{
	if (!PG_ARGISNULL(argno) && PG_GETARG_INT32(argno) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("throttle_interval_ms must be non-negative, got: %d",
						PG_GETARG_INT32(argno))));
	return pgmq_nonneg_int_arg(fcinfo, argno, "throttle_interval_ms");
}

/*
 * pgmq.enable_notify_insert(queue_name text, throttle_interval_ms integer
 * DEFAULT 250) RETURNS void: idempotent; a second call sets the interval.
 */
Datum
pgmq_enable_notify_insert(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	int32		interval;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];

	pgmq_open_queue_checked(fcinfo, 0, ShareRowExclusiveLock, &q);
	interval = throttle_arg(fcinfo, 1);
	values[0] = CStringGetTextDatum(q.name);
	values[1] = Int32GetDatum(interval);
	pgmq_connect();
	/* as in 1.11, (re-)enabling starts last_notified_at at the epoch */
	pgmq_run_sql("INSERT INTO pgmq.notify_insert_throttle"
				 " (queue_name, throttle_interval_ms, last_notified_at)"
				 " VALUES (" PGMQ_META_NAME("$1") ", $2, pg_catalog.to_timestamp(0))"
				 " ON CONFLICT (queue_name)"
				 " DO UPDATE SET throttle_interval_ms = EXCLUDED.throttle_interval_ms,"
				 " last_notified_at = EXCLUDED.last_notified_at",
				 SPI_OK_INSERT, 2, types, values, NULL);
	if (!has_notify_trigger(&q))
		pgmq_run_sql(psprintf("CREATE TRIGGER " PGMQ_NOTIFY_TRIGGER
							  " AFTER INSERT ON %s FOR EACH STATEMENT"
							  " EXECUTE FUNCTION pgmq.notify_queue_listeners()",
							  pgmq_qualified_table("q", q.name)),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_finish();
	PG_RETURN_VOID();
}

/* pgmq.disable_notify_insert(queue_name text) RETURNS void: idempotent */
Datum
pgmq_disable_notify_insert(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	pgmq_open_queue(fcinfo, 0, ShareRowExclusiveLock, &q);
	values[0] = CStringGetTextDatum(q.name);
	pgmq_connect();
	if (has_notify_trigger(&q))
		pgmq_run_sql(psprintf("DROP TRIGGER " PGMQ_NOTIFY_TRIGGER " ON %s",
							  pgmq_qualified_table("q", q.name)),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_run_sql("DELETE FROM pgmq.notify_insert_throttle"
				 " WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
				 SPI_OK_DELETE, 1, types, values, NULL);
	pgmq_finish();
	PG_RETURN_VOID();
}

/*
 * pgmq.update_notify_insert(queue_name text, throttle_interval_ms integer)
 * RETURNS void: change the interval of a queue that notifies.
 */
Datum
pgmq_update_notify_insert(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	int32		interval;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	uint64		n;

	pgmq_open_queue_checked(fcinfo, 0, AccessShareLock, &q);
	interval = throttle_arg(fcinfo, 1);
	values[0] = CStringGetTextDatum(q.name);
	values[1] = Int32GetDatum(interval);
	pgmq_connect();
	/* as in 1.11, a new interval starts last_notified_at at the epoch */
	pgmq_run_sql("UPDATE pgmq.notify_insert_throttle SET throttle_interval_ms = $2,"
				 " last_notified_at = pg_catalog.to_timestamp(0)"
				 " WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
				 SPI_OK_UPDATE, 2, types, values, NULL);
	n = SPI_processed;
	pgmq_finish();
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),	/* P0001, as pgmq 1.11 */
				 errmsg("insert notifications are not enabled for queue \"%s\"", q.name),
				 errhint("Call pgmq.enable_notify_insert first.")));
	PG_RETURN_VOID();
}
