/*
 * plan_cache.c
 *	  Resolve a queue for one call and keep its prepared plans.
 *
 * One hash entry per queue name (lower-cased), living in the "pgmq plan cache"
 * memory context under TopMemoryContext.  An entry holds one kept SPI plan per
 * PgmqPlanSpec (keyed by the spec's address), built the first time that queue
 * needs it.
 *
 * Invariants:
 *	- An entry's plans belong to the table whose OID is entry->qrelid.  A
 *	  call on a valid entry just locks that OID: taking the lock processes
 *	  pending invalidations, and any DDL that could change what the name
 *	  means (drop, rename, ALTER, GRANT/REVOKE) invalidates the old OID's
 *	  relcache entry, which marks the cache entry invalid.  An invalid entry
 *	  is resolved by name again (with the privilege check before the lock)
 *	  and its plans are thrown away when the OID changed, so a queue dropped
 *	  and re-created in one session is planned afresh.
 *	- The relcache callback only marks entries invalid (nothing is freed inside
 *	  it).  Plans are not thrown away for an invalidation of the same table
 *	  (autovacuum's statistics updates send those all the time):
 *	  SPI_plan_is_valid() is checked on every fetch, as ri_triggers.c does,
 *	  and a stale plan is rebuilt then.
 *	- An entry's PgmqQueueState (facts read paths need on every call, such as
 *	  whether the queue has its fifo index or a dead-letter policy) is cleared
 *	  on every invalidation of the queue table, so
 *	  CacheInvalidateRelcacheByRelid() on it makes every backend look them up
 *	  again, while the plans stay.
 *	- Specs whose SQL starts with PGMQ_FIXED_PLAN get a generic plan
 *	  (CURSOR_OPT_GENERIC_PLAN); the planner hook below plans every statement
 *	  starting with that mark, including the re-plans the plan cache makes
 *	  after an invalidation, with index scans and nested loops only.  Such a
 *	  plan is right for a queue of any size, so it can be kept across ANALYZE
 *	  runs that saw the queue nearly empty, and a call never pays for
 *	  planning (a custom plan per call costs more than the statement itself).
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "optimizer/planner.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "pgmq.h"

typedef struct PgmqCacheEntry
{
	char		name[NAMEDATALEN];	/* hash key: lower-cased queue name */
	Oid			qrelid;			/* table the plans were built for */
	bool		valid;			/* false once an invalidation hit qrelid */
	char	   *qtable;			/* pgmq."q_<name>" */
	char	   *atable;			/* pgmq."a_<name>" */
	char	   *dtable;			/* pgmq."d_<name>" (deduplication ids) */
	int			nplans;
	const PgmqPlanSpec *specs[PGMQ_MAX_PLANS];
	SPIPlanPtr	plans[PGMQ_MAX_PLANS];
	PgmqQueueState state;		/* cleared whenever the plans are */
} PgmqCacheEntry;

static HTAB *plan_cache = NULL;
static MemoryContext plan_cache_cxt = NULL;
static planner_hook_type prev_planner_hook = NULL;

#define FIXED_PLAN_MARK_LEN (sizeof(PGMQ_FIXED_PLAN) - 1)

/* Planner settings for statements marked PGMQ_FIXED_PLAN. */
static const char *const fixed_plan_settings[][2] = {
	{"enable_seqscan", "off"},
	{"enable_bitmapscan", "off"},
	{"enable_sort", "off"},
	{"enable_hashjoin", "off"},
	{"enable_mergejoin", "off"},
	{"enable_material", "off"},
	{"jit", "off"},
	{"max_parallel_workers_per_gather", "0"},
};

/*
 * Planner hook: plan statements starting with PGMQ_FIXED_PLAN under
 * fixed_plan_settings (restored before returning; on error, the
 * (sub)transaction abort restores them), everything else as usual.
 */
static PlannedStmt *
pgmq_planner(Query *parse, const char *query_string, int cursorOptions,
			 ParamListInfo boundParams)
{
	PlannedStmt *result;
	int			nestlevel;
	size_t		i;

	if (query_string == NULL ||
		strncmp(query_string, PGMQ_FIXED_PLAN, FIXED_PLAN_MARK_LEN) != 0)
	{
		if (prev_planner_hook)
			return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		return standard_planner(parse, query_string, cursorOptions, boundParams);
	}

	nestlevel = NewGUCNestLevel();
	for (i = 0; i < lengthof(fixed_plan_settings); i++)
		(void) set_config_option(fixed_plan_settings[i][0], fixed_plan_settings[i][1],
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	if (prev_planner_hook)
		result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	else
		result = standard_planner(parse, query_string, cursorOptions, boundParams);
	AtEOXact_GUC(true, nestlevel);
	return result;
}

/* Relcache invalidation: mark the entries of that table (or all) invalid. */
static void
plan_cache_relcache_cb(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	PgmqCacheEntry *entry;

	if (plan_cache == NULL)
		return;
	hash_seq_init(&status, plan_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || entry->qrelid == relid)
			entry->valid = false;
	}
}

/* Called once from _PG_init. */
void
pgmq_plan_cache_init(void)
{
	HASHCTL		ctl;

	plan_cache_cxt = AllocSetContextCreate(TopMemoryContext,
										   "pgmq plan cache",
										   ALLOCSET_SMALL_SIZES);
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(PgmqCacheEntry);
	ctl.hcxt = plan_cache_cxt;
	plan_cache = hash_create("pgmq plan cache", 64, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(plan_cache_relcache_cb, (Datum) 0);
	prev_planner_hook = planner_hook;
	planner_hook = pgmq_planner;
}

/* Free an entry's plans and point it at table relid. */
static void
plan_cache_reset(PgmqCacheEntry *entry, Oid relid)
{
	int			i;

	for (i = 0; i < entry->nplans; i++)
		SPI_freeplan(entry->plans[i]);
	entry->nplans = 0;
	entry->qrelid = relid;
	entry->valid = true;
	memset(&entry->state, 0, sizeof(entry->state));
}

/*
 * RangeVarGetRelidExtended callback, run before the queue table is locked
 * (as LOCK TABLE does): a role with no privilege at all on the table gets
 * the same "permission denied" it would get from the table later, but
 * without taking or waiting for a lock on a queue it may not use.
 */
static void
check_any_privilege(const RangeVar *rv, Oid relid, Oid oldrelid, void *arg)
{
	if (!OidIsValid(relid))
		return;
	if (pg_class_aclmask(relid, GetUserId(),
						 ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE,
						 ACLMASK_ANY) == 0)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, rv->relname);
}

/*
 * Resolve queue_name argument argno for one call: check the name, lock
 * pgmq.q_<name> in mode (RangeVarGetRelid re-checks after locking, so a
 * concurrent drop is seen), and find or make its cache entry.  An unknown
 * queue is an error naming it.
 */
void
pgmq_open_queue(FunctionCallInfo fcinfo, int argno, LOCKMODE mode, PgmqQueue *q)
{
	pgmq_name_arg(fcinfo, argno, q->name);
	(void) pgmq_open_named(q, mode, false);
}

/*
 * Resolve the queue whose checked, lower-cased name is already in q->name.
 * With missing_ok, an unknown queue returns false instead of raising.
 */
bool
pgmq_open_named(PgmqQueue *q, LOCKMODE mode, bool missing_ok)
{
	PgmqCacheEntry *entry;
	bool		found;
	char		relname[NAMEDATALEN];
	Oid			relid;

	if (mode != AccessShareLock && XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change queue \"%s\" in a read-only transaction",
						q->name),
				 errhint("Sending and consuming need a read-write transaction on the primary server.")));

	/*
	 * Fast path: a valid entry knows the table's OID.  Lock it, which
	 * processes pending invalidations; if none of them hit the table (a drop,
	 * rename or ALTER would have), the name still means that table.
	 */
	entry = hash_search(plan_cache, q->name, HASH_FIND, NULL);
	if (entry != NULL && entry->valid)
	{
		relid = entry->qrelid;
		LockRelationOid(relid, mode);
		if (entry->valid)
		{
			q->qrelid = relid;
			q->entry = entry;
			return true;
		}
		UnlockRelationOid(relid, mode);
	}

	snprintf(relname, sizeof(relname), "q_%s", q->name);
	relid = RangeVarGetRelidExtended(makeRangeVar("pgmq", relname, -1),
									 mode, RVR_MISSING_OK, check_any_privilege, NULL);
	if (!OidIsValid(relid) && missing_ok)
		return false;
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("queue \"%s\" does not exist", q->name)));

	entry = hash_search(plan_cache, q->name, HASH_ENTER, &found);
	if (!found)
	{
		MemoryContext old = MemoryContextSwitchTo(plan_cache_cxt);

		entry->nplans = 0;
		entry->qtable = pgmq_qualified_table("q", q->name);
		entry->atable = pgmq_qualified_table("a", q->name);
		entry->dtable = pgmq_qualified_table("d", q->name);
		entry->qrelid = relid;
		entry->valid = true;
		memset(&entry->state, 0, sizeof(entry->state));
		MemoryContextSwitchTo(old);
	}
	else if (entry->qrelid != relid)
		plan_cache_reset(entry, relid);
	else if (!entry->valid)
	{
		/*
		 * Same table, but something about it changed (DDL, or just new
		 * statistics from ANALYZE).  The kept plans check themselves
		 * (SPI_plan_is_valid in pgmq_plan), so they stay; the per-queue facts
		 * are looked up again.
		 */
		entry->valid = true;
		memset(&entry->state, 0, sizeof(entry->state));
	}

	q->qrelid = relid;
	q->entry = entry;
	return true;
}

/*
 * The kept plan of spec for queue q, prepared on first use.  Must be called
 * while connected to SPI.
 */
SPIPlanPtr
pgmq_plan(PgmqQueue *q, const PgmqPlanSpec *spec)
{
	PgmqCacheEntry *entry = q->entry;
	SPIPlanPtr	plan;
	char	   *sql;
	int			i;

	for (i = 0; i < entry->nplans; i++)
	{
		if (entry->specs[i] != spec)
			continue;
		if (SPI_plan_is_valid(entry->plans[i]))
			return entry->plans[i];
		/* stale: drop it, and the slot with it, then build afresh below */
		SPI_freeplan(entry->plans[i]);
		entry->nplans--;
		entry->specs[i] = entry->specs[entry->nplans];
		entry->plans[i] = entry->plans[entry->nplans];
		break;
	}
	if (entry->nplans >= PGMQ_MAX_PLANS)
		elog(ERROR, "pgmq: too many kept plans for queue \"%s\"", q->name);

	sql = psprintf(spec->sql, entry->qtable, entry->atable, entry->dtable);
	if (strncmp(sql, PGMQ_FIXED_PLAN, FIXED_PLAN_MARK_LEN) == 0)
		plan = SPI_prepare_cursor(sql, spec->nargs, (Oid *) spec->argtypes,
								  CURSOR_OPT_GENERIC_PLAN);
	else
		plan = SPI_prepare(sql, spec->nargs, (Oid *) spec->argtypes);
	if (plan == NULL)
		elog(ERROR, "pgmq: SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "pgmq: SPI_keepplan failed");
	pfree(sql);
	entry->specs[entry->nplans] = spec;
	entry->plans[entry->nplans] = plan;
	entry->nplans++;
	return plan;
}

/*
 * The cached state of open queue q: zeroed (nothing known) after every
 * invalidation, filled in by the modules that use it.
 */
PgmqQueueState *
pgmq_queue_state(PgmqQueue *q)
{
	return &q->entry->state;
}

/* Forget a queue's plans (drop_queue calls this after dropping its tables). */
void
pgmq_plan_cache_forget(const char *name)
{
	PgmqCacheEntry *entry;

	entry = hash_search(plan_cache, name, HASH_FIND, NULL);
	if (entry == NULL)
		return;
	plan_cache_reset(entry, InvalidOid);
	pfree(entry->qtable);
	pfree(entry->atable);
	pfree(entry->dtable);
	hash_search(plan_cache, name, HASH_REMOVE, NULL);
}
