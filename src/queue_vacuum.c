/*
 * queue_vacuum.c
 *	  The queue vacuum worker: a background worker per database that vacuums
 *	  queue tables as soon as consumed messages pile up in them.
 *
 * Why: every consumed message leaves a dead row and dead entries at the low
 * end of the (vt, msg_id) index, exactly where every read starts scanning.
 * Until VACUUM removes them each read steps over all of them, so a busy
 * queue slows down by the second between two autovacuum visits, and
 * autovacuum visits a database only once per autovacuum_naptime (a server
 * setting, one minute by default, that no table option can shorten).  This
 * worker looks at the queue tables of its database every
 * pgmq.vacuum_interval (default 1 s) and runs
 * VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON, TRUNCATE OFF) on those with at
 * least pgmq.vacuum_threshold + pgmq.vacuum_scale_factor * live rows dead
 * ones, which keeps the dead head short and the tables' size bounded.
 *
 * Lifecycle: needs shared memory, so it exists only when pgmq is in
 * shared_preload_libraries (without it, autovacuum alone looks after the
 * tables).  Workers are started on demand: a backend counts the rows its
 * statements consumed (rows updated or deleted, see pgmq_run()), and every
 * VACUUM_NOTE_ROWS of them it makes sure its database has a worker,
 * registering a dynamic background worker when it has not.  A worker exits
 * after VACUUM_IDLE_ROUNDS rounds without work, so it never holds a
 * database that nobody uses (DROP DATABASE waits for it for a few seconds
 * at most), and a queue that only receives messages never starts one.
 * Tables whose autovacuum_enabled is false are left alone, as autovacuum
 * leaves them.  pgmq.vacuum_interval = 0 turns the worker off.
 *
 * A pinned horizon (a session idle in a transaction with an xid, a long
 * REPEATABLE READ report) leaves VACUUM nothing to remove, yet the dead row
 * count stays above the threshold: the worker remembers the removable
 * horizon each table was last vacuumed at and skips the table until that
 * horizon moves (vacuuming it again would only re-read a heap that keeps
 * growing, every second, for nothing).  Such a table does not count as an
 * idle round, so the worker stays to vacuum it once the horizon moves.
 *
 * Shared state: one slot per database (at most VACUUM_SLOTS databases at a
 * time), protected by a spinlock; a slot whose worker is not running may be
 * taken over by another database.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pgmq.h"

#define VACUUM_SLOTS 64
/* a backend checks on its database's worker every this many consumed rows */
#define VACUUM_NOTE_ROWS 256
/* a worker leaves after this many rounds in a row found nothing to vacuum */
#define VACUUM_IDLE_ROUNDS 2
/* after a worker failed, wait this long before starting another one */
#define VACUUM_RETRY_MS 10000
/* a running worker that has not reported for this long is presumed dead */
#define VACUUM_STALE_MS 600000

typedef struct VacuumSlot
{
	Oid			dboid;			/* database served, InvalidOid if never used */
	bool		running;		/* a worker is registered or running */
	int			pid;			/* its process, once started (0 before) */
	TimestampTz heartbeat;		/* last round (or registration) of the worker */
	TimestampTz failed_at;		/* last failed start or error exit, or 0 */
} VacuumSlot;

typedef struct VacuumShared
{
	slock_t		mutex;
	VacuumSlot	slots[VACUUM_SLOTS];
} VacuumShared;

static VacuumShared *vacuum_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* settings */
static int	vacuum_interval_ms = 1000;
static int	vacuum_threshold = 1000;
static double vacuum_scale_factor = 0.01;

/* backend side: rows consumed since the last look at the worker */
static uint64 consumed_rows = 0;

/* worker side */
static VacuumSlot *worker_slot = NULL;
static bool worker_clean_exit = false;

/* worker side: the removable horizon each table was last vacuumed at */
#define VACUUMED_AT_MAX 256
typedef struct VacuumedAt
{
	Oid			relid;
	TransactionId horizon;
} VacuumedAt;
static VacuumedAt vacuumed_at[VACUUMED_AT_MAX];
static int	n_vacuumed_at = 0;

PGDLLEXPORT void pgmq_vacuum_main(Datum main_arg);

static void
vacuum_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(VacuumShared)));
}

static void
vacuum_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	vacuum_shared = ShmemInitStruct("pgmq queue vacuum", sizeof(VacuumShared), &found);
	if (!found)
	{
		memset(vacuum_shared, 0, sizeof(VacuumShared));
		SpinLockInit(&vacuum_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Called once from _PG_init: settings, and shared memory when preloaded. */
void
pgmq_vacuum_init(void)
{
	DefineCustomIntVariable("pgmq.vacuum_interval",
							"Time between two looks of the queue vacuum worker at its database's queues.",
							"0 turns the worker off. Needs pgmq in shared_preload_libraries.",
							&vacuum_interval_ms, 1000, 0, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("pgmq.vacuum_threshold",
							"Dead rows a queue table needs before the queue vacuum worker vacuums it.",
							NULL, &vacuum_threshold, 1000, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("pgmq.vacuum_scale_factor",
							 "Fraction of a queue table's live rows added to pgmq.vacuum_threshold.",
							 NULL, &vacuum_scale_factor, 0.01, 0.0, 100.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = vacuum_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = vacuum_shmem_startup;
}

/*
 * Find (or take over) this database's slot and register a worker for it,
 * unless one is running or one failed lately.
 */
static void
vacuum_start_worker(void)
{
	TimestampTz now = GetCurrentTimestamp();
	VacuumSlot *slot = NULL;
	VacuumSlot *spare = NULL;
	BackgroundWorker bgw;
	int			i;

	SpinLockAcquire(&vacuum_shared->mutex);
	for (i = 0; i < VACUUM_SLOTS; i++)
	{
		VacuumSlot *s = &vacuum_shared->slots[i];

		if (s->dboid == MyDatabaseId)
		{
			slot = s;
			break;
		}
		if (!s->running && (spare == NULL || !OidIsValid(s->dboid)))
			spare = s;
	}
	if (slot == NULL && spare != NULL)
	{
		slot = spare;
		slot->dboid = MyDatabaseId;
		slot->running = false;
		slot->failed_at = 0;
	}
	if (slot == NULL)
	{
		/* every slot serves a live worker of another database */
		SpinLockRelease(&vacuum_shared->mutex);
		return;
	}
	if (slot->running &&
		!TimestampDifferenceExceeds(slot->heartbeat, now, VACUUM_STALE_MS))
	{
		SpinLockRelease(&vacuum_shared->mutex);
		return;
	}
	if (slot->failed_at != 0 &&
		!TimestampDifferenceExceeds(slot->failed_at, now, VACUUM_RETRY_MS))
	{
		SpinLockRelease(&vacuum_shared->mutex);
		return;
	}
	slot->running = true;
	slot->pid = 0;
	slot->heartbeat = now;
	SpinLockRelease(&vacuum_shared->mutex);

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "pgmq");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "pgmq_vacuum_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "pgmq queue vacuum worker for database %u",
			 MyDatabaseId);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "pgmq queue vacuum worker");
	bgw.bgw_main_arg = Int32GetDatum((int32) (slot - vacuum_shared->slots));
	memcpy(bgw.bgw_extra, &MyDatabaseId, sizeof(Oid));
	if (!RegisterDynamicBackgroundWorker(&bgw, NULL))
	{
		SpinLockAcquire(&vacuum_shared->mutex);
		slot->running = false;
		slot->failed_at = now;
		SpinLockRelease(&vacuum_shared->mutex);
	}
}

/*
 * A statement of this backend consumed rows of a queue (each left a dead row
 * version behind).  Every VACUUM_NOTE_ROWS rows, make sure the database has
 * a queue vacuum worker.
 */
void
pgmq_vacuum_note_consumed(uint64 rows)
{
	if (vacuum_shared == NULL || vacuum_interval_ms == 0 || !OidIsValid(MyDatabaseId))
		return;
	consumed_rows += rows;
	if (consumed_rows < VACUUM_NOTE_ROWS)
		return;
	consumed_rows = 0;
	vacuum_start_worker();
}

/*
 * before_shmem_exit in the worker: give the slot back, unless a newer worker
 * (started because this one looked dead) has taken it over.
 */
static void
vacuum_worker_exit(int code, Datum arg)
{
	TimestampTz now = GetCurrentTimestamp();

	if (worker_slot == NULL)
		return;
	SpinLockAcquire(&vacuum_shared->mutex);
	if (worker_slot->pid == MyProcPid || worker_slot->pid == 0)
	{
		worker_slot->running = false;
		worker_slot->pid = 0;
		if (!worker_clean_exit)
			worker_slot->failed_at = now;
	}
	SpinLockRelease(&vacuum_shared->mutex);
}

/*
 * Should table relid (with dead rows over the threshold) be vacuumed now?
 * Not when its removable horizon is where it was at its last vacuum: then
 * *waiting is set.  Otherwise the horizon is remembered for next time.
 */
static bool
horizon_moved(Oid relid, bool *waiting)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TransactionId horizon;
	int			i;

	if (rel == NULL)
		return false;
	horizon = GetOldestNonRemovableTransactionId(rel);
	relation_close(rel, AccessShareLock);
	for (i = 0; i < n_vacuumed_at; i++)
	{
		if (vacuumed_at[i].relid != relid)
			continue;
		if (TransactionIdEquals(vacuumed_at[i].horizon, horizon))
		{
			*waiting = true;
			return false;
		}
		vacuumed_at[i].horizon = horizon;
		return true;
	}
	if (n_vacuumed_at < VACUUMED_AT_MAX)
	{
		vacuumed_at[n_vacuumed_at].relid = relid;
		vacuumed_at[n_vacuumed_at].horizon = horizon;
		n_vacuumed_at++;
	}
	return true;
}

/*
 * The queue tables of this database that need a vacuum now, as quoted
 * qualified names allocated in cxt.  *waiting: some need one but must wait
 * for the horizon to move.
 */
static List *
tables_to_vacuum(MemoryContext cxt, bool *waiting)
{
	Oid			types[2] = {FLOAT8OID, FLOAT8OID};
	Datum		values[2];
	List	   *names = NIL;
	MemoryContext old;
	uint64		i;
	int			rc;

	values[0] = Float8GetDatum((double) vacuum_threshold);
	values[1] = Float8GetDatum(vacuum_scale_factor);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgmq_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pgmq: looking for queue tables to vacuum");
	rc = SPI_execute_with_args(
		"SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'"
		"       OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname), c.oid"
		"  FROM pg_catalog.pg_class c"
		"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
		" WHERE n.nspname OPERATOR(pg_catalog.=) 'pgmq'"
		"   AND c.relkind OPERATOR(pg_catalog.=) 'r'"
		"   AND pg_catalog.starts_with(c.relname::pg_catalog.text, 'q_')"
		"   AND pg_catalog.pg_stat_get_dead_tuples(c.oid) OPERATOR(pg_catalog.>=)"
		"       ($1 OPERATOR(pg_catalog.+)"
		"        ($2 OPERATOR(pg_catalog.*) pg_catalog.pg_stat_get_live_tuples(c.oid)))"
		"   AND COALESCE((SELECT o.option_value::pg_catalog.bool"
		"                   FROM pg_catalog.pg_options_to_table(c.reloptions) o"
		"                  WHERE o.option_name OPERATOR(pg_catalog.=) 'autovacuum_enabled'),"
		"                true)",
		2, types, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pgmq: looking for queue tables to vacuum failed: %s",
			 SPI_result_code_string(rc));
	*waiting = false;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 2, &isnull));

		if (!horizon_moved(relid, waiting))
			continue;
		old = MemoryContextSwitchTo(cxt);
		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(old);
	}
	pgmq_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return names;
}

/*
 * VACUUM one table, as a top-level command that runs its own transactions.
 * The statement lives in cxt, which outlives them (VACUUM keeps pointing
 * into the parse tree after committing the transaction it started in).
 */
static void
vacuum_table(const char *name, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	   *sql = psprintf("VACUUM (SKIP_LOCKED, INDEX_CLEANUP ON, TRUNCATE OFF) %s", name);
	RawStmt    *raw = linitial_node(RawStmt, raw_parser(sql, RAW_PARSE_DEFAULT));
	ParseState *pstate = make_parsestate(NULL);

	pstate->p_sourcetext = sql;
	MemoryContextSwitchTo(old);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, sql);
	ExecVacuum(pstate, castNode(VacuumStmt, raw->stmt), true);
	CommitTransactionCommand();
}

/* Entry point of a queue vacuum worker; main_arg is its slot number. */
void
pgmq_vacuum_main(Datum main_arg)
{
	Oid			dboid;
	MemoryContext round_cxt;
	int			idle_rounds = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	worker_slot = &vacuum_shared->slots[DatumGetInt32(main_arg)];
	SpinLockAcquire(&vacuum_shared->mutex);
	worker_slot->pid = MyProcPid;
	SpinLockRelease(&vacuum_shared->mutex);
	before_shmem_exit(vacuum_worker_exit, (Datum) 0);
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	/* nothing the database or role sets may stop or slow a vacuum */
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	/* "skipping vacuum ... lock not available" is expected, not news */
	SetConfigOption("log_min_messages", "error", PGC_SUSET, PGC_S_OVERRIDE);

	round_cxt = AllocSetContextCreate(TopMemoryContext, "pgmq queue vacuum",
									  ALLOCSET_DEFAULT_SIZES);
	while (idle_rounds < VACUUM_IDLE_ROUNDS && vacuum_interval_ms > 0)
	{
		List	   *names;
		ListCell   *lc;
		bool		waiting;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 vacuum_interval_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		SpinLockAcquire(&vacuum_shared->mutex);
		worker_slot->heartbeat = GetCurrentTimestamp();
		SpinLockRelease(&vacuum_shared->mutex);

		MemoryContextReset(round_cxt);
		names = tables_to_vacuum(round_cxt, &waiting);
		foreach(lc, names)
			vacuum_table((const char *) lfirst(lc), round_cxt);
		idle_rounds = (names == NIL && !waiting) ? idle_rounds + 1 : 0;
		if (pgmq_retention_round() > 0)	/* issue 16: retention.c */
			idle_rounds = 0;
		pgstat_report_stat(false);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	worker_clean_exit = true;
	proc_exit(0);
}
