/*
 * queue_admin.c
 *	  Queue lifecycle: create, create_non_partitioned, create_unlogged,
 *	  drop_queue, purge_queue, detach_archive, list_queues and the name
 *	  helpers validate_queue_name, format_table_name, acquire_queue_lock.
 *
 * create and drop_queue serialize on the per-name advisory lock
 * (pgmq_acquire_name_lock) and look at the catalog only after holding it, so
 * two sessions creating or dropping one queue at once see each other's
 * committed work.  Queue tables are ordinary tables in schema pgmq, never
 * extension members.  Rows of other pgmq tables that belong to a queue
 * reference pgmq.meta with ON DELETE CASCADE, so dropping the meta row is
 * what removes them.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/inval.h"

#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_create);
PG_FUNCTION_INFO_V1(pgmq_create_unlogged);
PG_FUNCTION_INFO_V1(pgmq_drop_queue);
PG_FUNCTION_INFO_V1(pgmq_drop_queue_partitioned);
PG_FUNCTION_INFO_V1(pgmq_purge_queue);
PG_FUNCTION_INFO_V1(pgmq_detach_archive);
PG_FUNCTION_INFO_V1(pgmq_list_queues);
PG_FUNCTION_INFO_V1(pgmq_validate_queue_name);
PG_FUNCTION_INFO_V1(pgmq_format_table_name);
PG_FUNCTION_INFO_V1(pgmq_acquire_queue_lock);

static const PgmqPlanSpec purge_spec = {
	"DELETE FROM %1$s", 0, {0}
};

/* Refuse to create or drop a queue (what: "create"/"drop") in a read-only transaction. */
static void
require_read_write(const char *what, const char *name)
{
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s queue \"%s\" in a read-only transaction", what, name),
				 errhint("Queues are created and dropped in a read-write transaction on the primary server.")));
}

/* Take the per-name lock and refresh the catalog view after waiting for it. */
static void
lock_queue_name(const char *name)
{
	pgmq_acquire_name_lock(name);
	AcceptInvalidationMessages();
}

/* The quoted, qualified name of the msg_id sequence of qtable. */
static char *
queue_sequence(const char *qtable)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	bool		isnull;
	char	   *seq;

	values[0] = CStringGetTextDatum(qtable);
	pgmq_run_sql("SELECT pg_catalog.pg_get_serial_sequence($1, 'msg_id')",
				 SPI_OK_SELECT, 1, types, values, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "pgmq: no identity sequence for %s", qtable);
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "pgmq: no identity sequence for %s", qtable);
	seq = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return seq;
}

/* Create the q_ table with its read index, if it does not exist. */
static void
create_queue_table(const char *name, bool unlogged)
{
	char	   *qtable = pgmq_qualified_table("q", name);
	char	   *idx = psprintf("q_%s_vt_idx", name);
	char	   *seq;

	pgmq_run_sql(psprintf("CREATE %sTABLE %s ("
						  " msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,"
						  " read_ct integer NOT NULL DEFAULT 0,"
						  " enqueued_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),"
						  " last_read_at timestamp with time zone,"
						  " vt timestamp with time zone NOT NULL,"
						  " message pg_catalog.jsonb,"
						  " headers pg_catalog.jsonb"
						  ") WITH (" PGMQ_QUEUE_STORAGE ")",
						  unlogged ? "UNLOGGED " : "", qtable),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);

	/*
	 * PostgreSQL 15 makes the identity sequence of an unlogged table
	 * unlogged too, so a crash would reset it to 1 and new messages would
	 * reuse msg_ids still present in the (logged) archive table.  A logged
	 * sequence keeps counting after a crash (one WAL record per 32 sends).
	 */
	seq = queue_sequence(qtable);
	if (unlogged)
		pgmq_run_sql(psprintf("ALTER SEQUENCE %s SET LOGGED", seq),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_run_sql(psprintf("CREATE INDEX %s ON %s (vt, msg_id)",
						  quote_identifier(idx), qtable),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	/* pg_monitor reads every queue; metrics also reads the sequence */
	pgmq_run_sql(psprintf("GRANT SELECT ON %s TO pg_monitor", qtable),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_run_sql(psprintf("GRANT SELECT ON SEQUENCE %s TO pg_monitor", seq),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
}

/* Create the a_ table, if it does not exist. */
static void
create_archive_table(const char *name)
{
	char	   *atable = pgmq_qualified_table("a", name);

	pgmq_run_sql(psprintf("CREATE TABLE %s ("
						  " msg_id bigint PRIMARY KEY,"
						  " read_ct integer NOT NULL DEFAULT 0,"
						  " enqueued_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),"
						  " last_read_at timestamp with time zone,"
						  " archived_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),"
						  " vt timestamp with time zone NOT NULL,"
						  " message pg_catalog.jsonb,"
						  " headers pg_catalog.jsonb"
						  ")", atable),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pgmq_run_sql(psprintf("GRANT SELECT ON %s TO pg_monitor", atable),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
}

/*
 * Register a queue in pgmq.meta unless it is there already, in any case
 * (pgmq.meta's insert trigger skips a name it has in another case); name is
 * as the create call spelled it.
 */
static void
insert_meta_row(const char *name, bool partitioned, bool unlogged)
{
	Oid			types[3] = {TEXTOID, BOOLOID, BOOLOID};
	Datum		values[3];

	values[0] = CStringGetTextDatum(name);
	values[1] = BoolGetDatum(partitioned);
	values[2] = BoolGetDatum(unlogged);
	pgmq_run_sql("INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)"
				 " VALUES ($1, $2, $3) ON CONFLICT (queue_name) DO NOTHING",
				 SPI_OK_INSERT, 3, types, values, NULL);
}

/* Whether pgmq.meta has a row for lower-cased name, in any case. */
static bool
meta_row_exists(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(name);
	pgmq_run_sql("SELECT 1 WHERE " PGMQ_META_NAME("$1") " IS NOT NULL",
				 SPI_OK_SELECT, 1, types, values, NULL);
	return SPI_processed > 0;
}

/* Create a plain queue; idempotent, and existing tables are kept as they are. */
static void
create_queue(FunctionCallInfo fcinfo, bool unlogged)
{
	char		name[NAMEDATALEN];
	char		as_given[NAMEDATALEN];

	pgmq_name_arg_as_given(fcinfo, 0, name, as_given);
	require_read_write("create", name);
	lock_queue_name(name);
	pgmq_connect();
	if (!OidIsValid(pgmq_table_oid("q", name)))
		create_queue_table(name, unlogged);
	if (!OidIsValid(pgmq_table_oid("a", name)))
		create_archive_table(name);
	insert_meta_row(as_given, false, unlogged);
	pgmq_finish();
}

/* pgmq.create(queue_name text) and pgmq.create_non_partitioned(queue_name text) */
Datum
pgmq_create(PG_FUNCTION_ARGS)
{
	create_queue(fcinfo, false);
	PG_RETURN_VOID();
}

/* pgmq.create_unlogged(queue_name text): the q_ table is UNLOGGED */
Datum
pgmq_create_unlogged(PG_FUNCTION_ARGS)
{
	create_queue(fcinfo, true);
	PG_RETURN_VOID();
}

/* Drop a queue's tables and meta row; false (with a NOTICE) when unknown. */
static bool
drop_queue(FunctionCallInfo fcinfo)
{
	char		name[NAMEDATALEN];
	Oid			qrel;
	Oid			arel;
	bool		has_meta;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	pgmq_name_arg(fcinfo, 0, name);
	require_read_write("drop", name);
	lock_queue_name(name);
	pgmq_connect();
	qrel = pgmq_table_oid("q", name);
	arel = pgmq_table_oid("a", name);
	has_meta = meta_row_exists(name);
	if (!OidIsValid(qrel) && !OidIsValid(arel) && !has_meta)
	{
		pgmq_finish();
		ereport(NOTICE,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("queue \"%s\" does not exist", name)));
		return false;
	}
	pgmq_partman_forget(name);
	if (OidIsValid(qrel))
		pgmq_run_sql(psprintf("DROP TABLE %s", pgmq_qualified_table("q", name)),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	if (OidIsValid(arel))
		pgmq_run_sql(psprintf("DROP TABLE %s", pgmq_qualified_table("a", name)),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	values[0] = CStringGetTextDatum(name);
	pgmq_run_sql("DELETE FROM pgmq.meta WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
				 SPI_OK_DELETE, 1, types, values, NULL);
	pgmq_finish();
	pgmq_plan_cache_forget(name);
	pgmq_stats_forget(name);
	return true;
}

/* pgmq.drop_queue(queue_name text) RETURNS boolean */
Datum
pgmq_drop_queue(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(drop_queue(fcinfo));
}

/* pgmq.drop_queue(queue_name text, partitioned boolean): deprecated form */
Datum
pgmq_drop_queue_partitioned(PG_FUNCTION_ARGS)
{
	ereport(WARNING,
			(errcode(ERRCODE_WARNING_DEPRECATED_FEATURE),
			 errmsg("drop_queue(queue_name, partitioned) is deprecated"),
			 errhint("Call pgmq.drop_queue(queue_name); the partitioned argument is ignored.")));
	PG_RETURN_BOOL(drop_queue(fcinfo));
}

/* pgmq.purge_queue(queue_name text) RETURNS bigint: delete every message */
Datum
pgmq_purge_queue(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	uint64		n;

	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	pgmq_connect();
	n = pgmq_run(&q, &purge_spec, NULL, NULL);
	pgmq_stats_count(&q, PGMQ_STAT_REMOVED, n);
	pgmq_finish();
	PG_RETURN_INT64((int64) n);
}

/* pgmq.detach_archive(queue_name text): deprecated, does nothing */
Datum
pgmq_detach_archive(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;

	pgmq_open_queue(fcinfo, 0, AccessShareLock, &q);
	ereport(WARNING,
			(errcode(ERRCODE_WARNING_DEPRECATED_FEATURE),
			 errmsg("detach_archive is deprecated and does nothing"),
			 errdetail("Archive tables are never extension members, so there is nothing to detach.")));
	PG_RETURN_VOID();
}

/* pgmq.list_queues() RETURNS SETOF pgmq.queue_record */
Datum
pgmq_list_queues(PG_FUNCTION_ARGS)
{
	pgmq_init_srf(fcinfo);
	pgmq_connect();
	pgmq_run_sql("SELECT queue_name, is_partitioned, is_unlogged, created_at"
				 " FROM pgmq.meta ORDER BY queue_name",
				 SPI_OK_SELECT, 0, NULL, NULL, NULL);
	pgmq_emit_rows(fcinfo);
	pgmq_finish();
	return (Datum) 0;
}

/* pgmq.validate_queue_name(queue_name text): raise when the name is invalid */
Datum
pgmq_validate_queue_name(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];

	pgmq_name_arg(fcinfo, 0, name);
	PG_RETURN_VOID();
}

/* pgmq.format_table_name(queue_name text, prefix text) RETURNS text */
Datum
pgmq_format_table_name(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];
	char	   *prefix;
	char	   *p;

	pgmq_name_arg(fcinfo, 0, name);
	pgmq_require_arg(fcinfo, 1, "prefix");
	prefix = text_to_cstring(PG_GETARG_TEXT_PP(1));
	for (p = prefix; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid table prefix \"%s\"", prefix),
					 errdetail("A prefix may contain only ASCII letters and \"_\".")));
		if (*p >= 'A' && *p <= 'Z')
			*p = *p - 'A' + 'a';
	}
	PG_RETURN_TEXT_P(cstring_to_text(pgmq_table_name(prefix, name)));
}

/* pgmq.acquire_queue_lock(queue_name text): the lock create/drop_queue take */
Datum
pgmq_acquire_queue_lock(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];

	pgmq_name_arg(fcinfo, 0, name);
	pgmq_acquire_name_lock(name);
	PG_RETURN_VOID();
}
