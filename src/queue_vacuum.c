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
 * after VACUUM_IDLE_ROUNDS rounds without work, and a queue that only
 * receives messages never starts one -- unless it has a message retention
 * (retention.c): set_retention and sends to such a queue start one too
 * (pgmq_vacuum_want_worker), and a database with a retention setting keeps
 * its worker however idle, since messages expire without any call.  Tables whose autovacuum_enabled is
 * false are left alone, as autovacuum leaves them.  pgmq.vacuum_interval = 0
 * turns the worker off.
 *
 * Bounded resources: at most pgmq.vacuum_max_workers (default 2) workers
 * run at once, whatever the number of busy databases (each holds one of
 * max_worker_processes, shared with parallel query and replication).  A
 * database that finds no free place records that it wants one; a worker that
 * has had VACUUM_TURN_ROUNDS rounds leaves when another database wants one,
 * so busy databases take turns.
 *
 * One worker per database: each database has one slot; registering a
 * worker needs the slot to have none.  A slot's worker is alive from its
 * registration until its exit callback clears the slot (every exit of a
 * process with shared memory runs it; a crash restarts the server and
 * resets shared memory), however long a VACUUM takes.  The registering
 * backend waits for the postmaster to start the worker and records its pid,
 * or clears the slot when it could not start.  A registration whose
 * registrant was interrupted before knowing is given VACUUM_START_MS to
 * start; after that the slot's generation moves on, and a worker that
 * starts late finds its generation stale and exits before connecting.
 *
 * Never in the way of DROP DATABASE: DROP DATABASE (and the other commands
 * that need a database without sessions: ALTER DATABASE RENAME or SET
 * TABLESPACE, CREATE DATABASE from it as template) waits only 5 s for other
 * sessions to leave, and only terminates autovacuum workers itself.  A
 * utility hook in the backend that runs such a command first marks the
 * database as closed (no worker may start or connect to it) and sends
 * SIGTERM to its worker, which leaves at once whether it is waiting between
 * rounds or in the middle of a VACUUM; the mark is lifted when the command
 * ends.
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
 * time) and the list of closed databases, protected by a spinlock; a slot
 * without a worker may be taken over by another database.
 */
#include "postgres.h"

#include <signal.h>

#include "access/relation.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
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
/* databases closed at once by DROP DATABASE and the like (more: not tracked) */
#define VACUUM_CLOSED 16
/* a backend checks on its database's worker every this many consumed rows */
#define VACUUM_NOTE_ROWS 256
/* a worker leaves after this many rounds in a row found nothing to vacuum */
#define VACUUM_IDLE_ROUNDS 2
/* a worker leaves after this many rounds when another database wants one */
#define VACUUM_TURN_ROUNDS 20
/* after a worker failed, wait this long before starting another one */
#define VACUUM_RETRY_MS 10000
/* a registration whose start nobody saw is given up after this long */
#define VACUUM_START_MS 30000
/* a database's wish for a worker lasts this long unless renewed */
#define VACUUM_WANT_MS 10000

typedef struct VacuumSlot
{
	Oid			dboid;			/* database served, InvalidOid if never used */
	bool		registered;		/* a worker is registered, starting or running */
	uint32		generation;		/* bumped by every registration */
	int			pid;			/* the worker's process, once started (0 before) */
	TimestampTz registered_at;	/* when the current worker was registered */
	TimestampTz failed_at;		/* last failed start or error exit, or 0 */
	TimestampTz wanted_at;		/* last time a backend found no free place, or 0 */
} VacuumSlot;

typedef struct VacuumShared
{
	slock_t		mutex;
	Oid			closed[VACUUM_CLOSED];	/* databases no worker may use now */
	VacuumSlot	slots[VACUUM_SLOTS];
} VacuumShared;

static VacuumShared *vacuum_shared = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* settings */
static int	vacuum_interval_ms = 1000;
static int	vacuum_threshold = 1000;
static double vacuum_scale_factor = 0.01;
static int	vacuum_max_workers = 2;

/* backend side: rows consumed since the last look at the worker */
static uint64 consumed_rows = 0;

/* worker side */
static VacuumSlot *worker_slot = NULL;
static uint32 worker_generation = 0;
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

static void vacuum_process_utility(PlannedStmt *pstmt, const char *queryString,
								   bool readOnlyTree, ProcessUtilityContext context,
								   ParamListInfo params, QueryEnvironment *queryEnv,
								   DestReceiver *dest, QueryCompletion *qc);

/* pgmq_shmem_request (pgmq.c): reserve the worker slots. */
void
pgmq_vacuum_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(VacuumShared)));
}

/* pgmq_shmem_startup (pgmq.c), AddinShmemInitLock held: create or attach. */
void
pgmq_vacuum_shmem_startup(void)
{
	bool		found;

	vacuum_shared = pgmq_shmem_struct("pgmq queue vacuum", sizeof(VacuumShared), &found);
	if (!found)
		SpinLockInit(&vacuum_shared->mutex);
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
	DefineCustomIntVariable("pgmq.vacuum_max_workers",
							"Most queue vacuum workers running at once, over all databases.",
							"Each is a background worker counted in max_worker_processes. 0 turns the worker off.",
							&vacuum_max_workers, 2, 0, VACUUM_SLOTS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = vacuum_process_utility;
}

/* Whether dboid is closed to workers; caller holds the mutex. */
static bool
database_closed(Oid dboid)
{
	int			i;

	for (i = 0; i < VACUUM_CLOSED; i++)
	{
		if (vacuum_shared->closed[i] == dboid)
			return true;
	}
	return false;
}

/* Void slot s's registration (its worker is gone); caller holds the mutex. */
static void
void_registration(VacuumSlot *s, TimestampTz now)
{
	/* a worker starting late will find its generation stale and leave */
	s->registered = false;
	s->pid = 0;
	s->generation++;
	s->failed_at = now;
}

/*
 * Void the registrations whose worker is gone without a trace.  A started
 * worker is alive until its exit callback clears the slot; its pid is
 * checked too (kill 0, outside the spinlock), in case it could not run the
 * callback.  One that has not started is given VACUUM_START_MS.
 */
static void
reap_vanished_workers(TimestampTz now)
{
	int			pids[VACUUM_SLOTS];
	uint32		generations[VACUUM_SLOTS];
	bool		any = false;
	int			i;

	SpinLockAcquire(&vacuum_shared->mutex);
	for (i = 0; i < VACUUM_SLOTS; i++)
	{
		VacuumSlot *s = &vacuum_shared->slots[i];

		pids[i] = s->registered ? s->pid : 0;
		generations[i] = s->generation;
		if (s->registered && s->pid == 0 &&
			TimestampDifferenceExceeds(s->registered_at, now, VACUUM_START_MS))
			void_registration(s, now);
	}
	SpinLockRelease(&vacuum_shared->mutex);

	for (i = 0; i < VACUUM_SLOTS; i++)
	{
		if (pids[i] != 0 && kill(pids[i], 0) != 0 && errno == ESRCH)
			any = true;
		else
			pids[i] = 0;
	}
	if (!any)
		return;
	SpinLockAcquire(&vacuum_shared->mutex);
	for (i = 0; i < VACUUM_SLOTS; i++)
	{
		VacuumSlot *s = &vacuum_shared->slots[i];

		if (pids[i] != 0 && s->registered && s->pid == pids[i] &&
			s->generation == generations[i])
			void_registration(s, now);
	}
	SpinLockRelease(&vacuum_shared->mutex);
}

/*
 * Find (or take over) this database's slot and register a worker for it,
 * unless one is alive, one failed lately, the database is closed, or
 * pgmq.vacuum_max_workers are running (then record that this database
 * wants one).  Waits for the postmaster to start the worker.
 */
static void
vacuum_start_worker(void)
{
	TimestampTz now = GetCurrentTimestamp();
	VacuumSlot *slot = NULL;
	VacuumSlot *spare = NULL;
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid = 0;
	uint32		generation;
	int			running = 0;
	int			i;

	reap_vanished_workers(now);
	SpinLockAcquire(&vacuum_shared->mutex);
	for (i = 0; i < VACUUM_SLOTS; i++)
	{
		VacuumSlot *s = &vacuum_shared->slots[i];
		bool		alive = s->registered;

		if (alive)
			running++;
		if (s->dboid == MyDatabaseId)
			slot = s;
		else if (!alive && (spare == NULL || !OidIsValid(s->dboid)))
			spare = s;
	}
	if (slot == NULL && spare != NULL)
	{
		slot = spare;
		slot->dboid = MyDatabaseId;
		slot->failed_at = 0;
		slot->wanted_at = 0;
	}
	if (slot == NULL || slot->registered || database_closed(MyDatabaseId) ||
		(slot->failed_at != 0 &&
		 !TimestampDifferenceExceeds(slot->failed_at, now, VACUUM_RETRY_MS)))
	{
		SpinLockRelease(&vacuum_shared->mutex);
		return;
	}
	if (running >= vacuum_max_workers)
	{
		slot->wanted_at = now;
		SpinLockRelease(&vacuum_shared->mutex);
		return;
	}
	slot->registered = true;
	slot->pid = 0;
	slot->generation++;
	slot->registered_at = now;
	slot->wanted_at = 0;
	generation = slot->generation;
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
	memcpy(bgw.bgw_extra + sizeof(Oid), &generation, sizeof(uint32));
	bgw.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
		status = BGWH_STOPPED;
	else
	{
		status = WaitForBackgroundWorkerStartup(handle, &pid);
		pfree(handle);
		/* that wait consumed any latch set meant for this backend's own waits */
		SetLatch(MyLatch);
	}

	SpinLockAcquire(&vacuum_shared->mutex);
	if (slot->generation == generation && slot->registered && slot->pid == 0)
	{
		if (status == BGWH_STARTED)
			slot->pid = (int) pid;
		else
		{
			slot->registered = false;
			slot->failed_at = now;
		}
	}
	SpinLockRelease(&vacuum_shared->mutex);
}

/*
 * A statement of this backend consumed rows of a queue (each left a dead row
 * version behind).  Every VACUUM_NOTE_ROWS rows, make sure the database has
 * a queue vacuum worker.
 */
void
pgmq_vacuum_note_consumed(uint64 rows)
{
	if (vacuum_shared == NULL || vacuum_interval_ms == 0 || vacuum_max_workers == 0 ||
		!OidIsValid(MyDatabaseId))
		return;
	consumed_rows += rows;
	if (consumed_rows < VACUUM_NOTE_ROWS)
		return;
	consumed_rows = 0;
	vacuum_start_worker();
}

/*
 * A queue with a retention was set up (now) or sent to: make sure the
 * database has a worker, at once or every VACUUM_NOTE_ROWS sends (the first
 * one included).
 */
void
pgmq_vacuum_want_worker(bool now)
{
	static uint32 sends = 0;

	if (vacuum_shared == NULL || vacuum_interval_ms == 0 || vacuum_max_workers == 0 ||
		!OidIsValid(MyDatabaseId))
		return;
	if (!now && sends++ % VACUUM_NOTE_ROWS != 0)
		return;
	vacuum_start_worker();
}

/*
 * The database a utility statement needs without other sessions (as
 * CountOtherDBBackends checks it), or InvalidOid.
 */
static Oid
statement_database(Node *stmt)
{
	const char *name = NULL;
	ListCell   *lc;

	if (IsA(stmt, DropdbStmt))
		name = ((DropdbStmt *) stmt)->dbname;
	else if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
		name = ((RenameStmt *) stmt)->subname;
	else if (IsA(stmt, AlterDatabaseStmt))
	{
		foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
		{
			if (strcmp(lfirst_node(DefElem, lc)->defname, "tablespace") == 0)
				name = ((AlterDatabaseStmt *) stmt)->dbname;
		}
	}
	else if (IsA(stmt, CreatedbStmt))
	{
		foreach(lc, ((CreatedbStmt *) stmt)->options)
		{
			DefElem    *d = lfirst_node(DefElem, lc);

			if (strcmp(d->defname, "template") == 0 && d->arg != NULL)
				name = defGetString(d);
		}
	}
	return name != NULL ? get_database_oid(name, true) : InvalidOid;
}

/* Open dboid to workers again (end of the command that closed it). */
static void
reopen_database(Oid dboid)
{
	int			i;

	SpinLockAcquire(&vacuum_shared->mutex);
	for (i = 0; i < VACUUM_CLOSED; i++)
	{
		if (vacuum_shared->closed[i] == dboid)
		{
			vacuum_shared->closed[i] = InvalidOid;
			break;
		}
	}
	SpinLockRelease(&vacuum_shared->mutex);
}

/*
 * Utility hook: before a command that needs database dboid without other
 * sessions runs, close the database to workers and terminate its worker
 * (as such commands terminate autovacuum workers); reopen it afterwards.
 */
static void
vacuum_process_utility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	volatile Oid dboid = InvalidOid;
	volatile bool closed = false;
	int			pid = 0;
	int			i;

	if (vacuum_shared != NULL)
		dboid = statement_database(pstmt->utilityStmt);
	if (OidIsValid(dboid))
	{
		SpinLockAcquire(&vacuum_shared->mutex);
		for (i = 0; i < VACUUM_CLOSED && !closed; i++)
		{
			if (!OidIsValid(vacuum_shared->closed[i]))
			{
				vacuum_shared->closed[i] = dboid;
				closed = true;
			}
		}
		for (i = 0; i < VACUUM_SLOTS; i++)
		{
			VacuumSlot *s = &vacuum_shared->slots[i];

			if (s->dboid == dboid && s->registered)
				pid = s->pid;
		}
		SpinLockRelease(&vacuum_shared->mutex);
		if (pid != 0)
			(void) kill(pid, SIGTERM);
	}

	PG_TRY();
	{
		if (prev_process_utility_hook)
			prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
									  params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (closed)
			reopen_database(dboid);
	}
	PG_END_TRY();
}

/*
 * before_shmem_exit in the worker: give the slot back, unless it has moved
 * on to a newer registration.
 */
static void
vacuum_worker_exit(int code, Datum arg)
{
	TimestampTz now = GetCurrentTimestamp();

	if (worker_slot == NULL)
		return;
	SpinLockAcquire(&vacuum_shared->mutex);
	if (worker_slot->generation == worker_generation && worker_slot->pid == MyProcPid)
	{
		worker_slot->registered = false;
		worker_slot->pid = 0;
		if (!worker_clean_exit)
			worker_slot->failed_at = now;
	}
	SpinLockRelease(&vacuum_shared->mutex);
}

/* Whether another database has wanted a worker lately and has none. */
static bool
other_database_waits(void)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		waits = false;
	int			i;

	SpinLockAcquire(&vacuum_shared->mutex);
	for (i = 0; i < VACUUM_SLOTS && !waits; i++)
	{
		VacuumSlot *s = &vacuum_shared->slots[i];

		waits = (s != worker_slot && !s->registered && s->wanted_at != 0 &&
				 !TimestampDifferenceExceeds(s->wanted_at, now, VACUUM_WANT_MS));
	}
	SpinLockRelease(&vacuum_shared->mutex);
	return waits;
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

/*
 * Entry point of a queue vacuum worker; main_arg is its slot number,
 * bgw_extra its database and generation.
 */
void
pgmq_vacuum_main(Datum main_arg)
{
	Oid			dboid;
	VacuumSlot *slot;
	bool		mine;
	MemoryContext round_cxt;
	int			idle_rounds = 0;
	bool		retention_any = false;
	int			rounds = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	memcpy(&worker_generation, MyBgworkerEntry->bgw_extra + sizeof(Oid), sizeof(uint32));
	slot = &vacuum_shared->slots[DatumGetInt32(main_arg)];

	/*
	 * Claim the slot: only the registration it still holds may run, and not
	 * for a database a DROP DATABASE (or the like) has closed.  Once claimed,
	 * such a command finds our pid and terminates us.
	 */
	SpinLockAcquire(&vacuum_shared->mutex);
	mine = (slot->dboid == dboid && slot->generation == worker_generation &&
			slot->registered && (slot->pid == 0 || slot->pid == MyProcPid) &&
			!database_closed(dboid));
	if (mine)
		slot->pid = MyProcPid;
	else if (slot->generation == worker_generation && slot->registered)
		slot->registered = false;
	SpinLockRelease(&vacuum_shared->mutex);
	if (!mine)
		proc_exit(0);
	worker_slot = slot;
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
	while (idle_rounds < VACUUM_IDLE_ROUNDS && vacuum_interval_ms > 0 &&
		   vacuum_max_workers > 0 &&
		   !(rounds >= VACUUM_TURN_ROUNDS && other_database_waits()))
	{
		List	   *names;
		ListCell   *lc;
		bool		waiting;

		/* SIGTERM (DROP DATABASE, shutdown) sets the latch and ends the wait */
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 vacuum_interval_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			continue;
		}

		MemoryContextReset(round_cxt);
		names = tables_to_vacuum(round_cxt, &waiting);
		foreach(lc, names)
			vacuum_table((const char *) lfirst(lc), round_cxt);
		idle_rounds = (names == NIL && !waiting) ? idle_rounds + 1 : 0;
		if (pgmq_retention_round(&retention_any) > 0 || retention_any)
			idle_rounds = 0;	/* issue 16: retention.c; retention keeps the worker */
		rounds++;
		pgstat_report_stat(false);
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	worker_clean_exit = true;
	proc_exit(0);
}
