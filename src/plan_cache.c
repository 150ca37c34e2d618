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
 *	- No lock without privilege: every open checks the current user's
 *	  privilege on the table for the lock mode it asks for (the rule of LOCK
 *	  TABLE: SELECT allows ACCESS SHARE, INSERT up to ROW EXCLUSIVE, UPDATE,
 *	  DELETE or TRUNCATE any mode) BEFORE locking, on a warm entry as on a
 *	  cold one: the role may have changed (SET ROLE, SECURITY DEFINER) since
 *	  the entry was made, and a role that may not use the queue must never
 *	  wait in, or add to, the table's lock queue.
 *	- An entry's plans belong to the table whose OID is entry->qrelid.  A
 *	  call on a valid entry just locks that OID: taking the lock processes
 *	  pending invalidations, and any DDL that could change what the name
 *	  means (drop, rename, ALTER, GRANT/REVOKE) invalidates the old OID's
 *	  relcache entry, which marks the cache entry invalid.  An invalid entry
 *	  is resolved by name again (with the privilege check before the lock)
 *	  and its plans are thrown away when the OID changed, so a queue dropped
 *	  and re-created in one session is planned afresh.
 *	- Bounded size: at most pgmq.plan_cache_size entries (least recently
 *	  used evicted first; an entry used in the current transaction is never
 *	  evicted, as a caller may hold it), and an entry whose table is gone
 *	  (a queue dropped by another session) is evicted at the next open.
 *	- The relcache callback finds the entry of a table through an index by
 *	  OID (no walk over the cache), and only marks it invalid and queues it
 *	  for the dropped-table check (nothing is freed inside the callback).  Plans are not thrown away for an invalidation of the same table
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
#include "lib/ilist.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pg_compat.h"
#include "pgmq.h"

typedef struct PgmqCacheEntry
{
	char		name[NAMEDATALEN];	/* hash key: lower-cased queue name */
	Oid			qrelid;			/* table the plans were built for */
	bool		valid;			/* false once an invalidation hit qrelid */
	LocalTransactionId used_lxid;	/* transaction that last opened it */
	dlist_node	lru;			/* in lru_list, most recently used first */
	bool		in_sweep;		/* in sweep_list */
	dlist_node	sweep;			/* invalidated: check whether qrelid is gone */
	char	   *qtable;			/* pgmq."q_<name>" */
	char	   *atable;			/* pgmq."a_<name>" */
	char	   *dtable;			/* pgmq."d_<name>" (deduplication ids) */
	int			nplans;
	const PgmqPlanSpec *specs[PGMQ_MAX_PLANS];
	SPIPlanPtr	plans[PGMQ_MAX_PLANS];
	PgmqQueueState state;		/* cleared whenever the plans are */
} PgmqCacheEntry;

/* The index by table OID: relid -> the entry whose qrelid it is. */
typedef struct PgmqRelidEntry
{
	Oid			relid;			/* hash key */
	PgmqCacheEntry *entry;
} PgmqRelidEntry;

static HTAB *plan_cache = NULL;
static HTAB *plan_cache_by_relid = NULL;
static MemoryContext plan_cache_cxt = NULL;
static dlist_head lru_list = DLIST_STATIC_INIT(lru_list);
static dlist_head sweep_list = DLIST_STATIC_INIT(sweep_list);
static int	plan_cache_entries = 0;

/* pgmq.plan_cache_size: most queues whose plans a backend keeps */
static int	plan_cache_size = 128;
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

/* Mark entry invalid and queue it for the dropped-table check. */
static void
mark_invalid(PgmqCacheEntry *entry)
{
	entry->valid = false;
	if (!entry->in_sweep && OidIsValid(entry->qrelid))
	{
		dlist_push_tail(&sweep_list, &entry->sweep);
		entry->in_sweep = true;
	}
}

/*
 * Relcache invalidation: mark the entry of that table (found through the
 * index by OID), or every entry for a reset, invalid.
 */
static void
plan_cache_relcache_cb(Datum arg, Oid relid)
{
	if (plan_cache == NULL)
		return;
	if (OidIsValid(relid))
	{
		PgmqRelidEntry *r = hash_search(plan_cache_by_relid, &relid, HASH_FIND, NULL);

		if (r != NULL)
			mark_invalid(r->entry);
	}
	else
	{
		dlist_iter	it;

		dlist_foreach(it, &lru_list)
			mark_invalid(dlist_container(PgmqCacheEntry, lru, it.cur));
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
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PgmqRelidEntry);
	ctl.hcxt = plan_cache_cxt;
	plan_cache_by_relid = hash_create("pgmq plan cache by relid", 64, &ctl,
									  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	DefineCustomIntVariable("pgmq.plan_cache_size",
							"Most queues whose prepared plans a session keeps.",
							"The least recently used queue's plans are dropped first.",
							&plan_cache_size, 128, 1, 100000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(plan_cache_relcache_cb, (Datum) 0);
	prev_planner_hook = planner_hook;
	planner_hook = pgmq_planner;
}

/* Point the index by OID for relid at entry (or drop relid from it). */
static void
index_relid(Oid relid, PgmqCacheEntry *entry)
{
	PgmqRelidEntry *r;

	if (!OidIsValid(relid))
		return;
	if (entry == NULL)
	{
		r = hash_search(plan_cache_by_relid, &relid, HASH_FIND, NULL);
		if (r != NULL)
			(void) hash_search(plan_cache_by_relid, &relid, HASH_REMOVE, NULL);
		return;
	}
	r = hash_search(plan_cache_by_relid, &relid, HASH_ENTER, NULL);
	r->entry = entry;
}

/* Free an entry's plans and point it at table relid. */
static void
plan_cache_reset(PgmqCacheEntry *entry, Oid relid)
{
	int			i;

	for (i = 0; i < entry->nplans; i++)
		SPI_freeplan(entry->plans[i]);
	entry->nplans = 0;
	if (entry->qrelid != relid)
	{
		PgmqRelidEntry *r = OidIsValid(entry->qrelid) ?
			hash_search(plan_cache_by_relid, &entry->qrelid, HASH_FIND, NULL) : NULL;

		if (r != NULL && r->entry == entry)
			index_relid(entry->qrelid, NULL);
		index_relid(relid, entry);
	}
	entry->qrelid = relid;
	entry->valid = true;
	memset(&entry->state, 0, sizeof(entry->state));
}

/* Free entry and everything it holds, and take it out of the cache. */
static void
plan_cache_remove(PgmqCacheEntry *entry)
{
	char		name[NAMEDATALEN];

	plan_cache_reset(entry, InvalidOid);
	if (entry->in_sweep)
		dlist_delete(&entry->sweep);
	dlist_delete(&entry->lru);
	pfree(entry->qtable);
	pfree(entry->atable);
	pfree(entry->dtable);
	memcpy(name, entry->name, NAMEDATALEN);
	(void) hash_search(plan_cache, name, HASH_REMOVE, NULL);
	plan_cache_entries--;
}

/*
 * Bound the cache: evict entries whose table was dropped (queued by the
 * relcache callback), then least recently used entries beyond
 * pgmq.plan_cache_size.  Entries opened in the current transaction stay (a
 * caller may hold one).  Work is proportional to what gets evicted or
 * checked, never to the size of the cache.
 */
static void
plan_cache_trim(void)
{
	LocalTransactionId lxid = pgmq_my_lxid();
	dlist_mutable_iter it;

	dlist_foreach_modify(it, &sweep_list)
	{
		PgmqCacheEntry *entry = dlist_container(PgmqCacheEntry, sweep, it.cur);

		if (entry->used_lxid == lxid)
			continue;
		if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(entry->qrelid)))
			plan_cache_remove(entry);
		else
		{
			dlist_delete(&entry->sweep);
			entry->in_sweep = false;
		}
	}
	while (plan_cache_entries > plan_cache_size && !dlist_is_empty(&lru_list))
	{
		PgmqCacheEntry *entry = dlist_tail_element(PgmqCacheEntry, lru, &lru_list);

		/* more recent entries were all used in this transaction too */
		if (entry->used_lxid == lxid)
			break;
		plan_cache_remove(entry);
	}
}

/* entry was opened now: most recently used, not evictable in this transaction */
static void
plan_cache_touch(PgmqCacheEntry *entry)
{
	entry->used_lxid = pgmq_my_lxid();
	dlist_move_head(&lru_list, &entry->lru);
}

/*
 * The privileges that allow locking a table in mode, as LOCK TABLE has them:
 * UPDATE, DELETE or TRUNCATE allow any mode, INSERT up to ROW EXCLUSIVE,
 * SELECT only ACCESS SHARE.
 */
static AclMode
lock_privileges(LOCKMODE mode)
{
	AclMode		m = ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE;

	if (mode <= AccessShareLock)
		m |= ACL_SELECT;
	if (mode <= RowExclusiveLock)
		m |= ACL_INSERT;
	return m;
}

/*
 * RangeVarGetRelidExtended callback, run before the queue table is locked
 * (as LOCK TABLE does): a role without a privilege that allows the lock mode
 * (*arg) gets the same "permission denied" it would get from the table
 * later, but without taking or waiting for a lock on a queue it may not use.
 */
static void
check_lock_privilege(const RangeVar *rv, Oid relid, Oid oldrelid, void *arg)
{
	LOCKMODE	mode = *(LOCKMODE *) arg;

	if (!OidIsValid(relid))
		return;
	if (pg_class_aclcheck(relid, GetUserId(), lock_privileges(mode)) != ACLCHECK_OK)
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

	plan_cache_trim();

	/*
	 * Fast path: a valid entry knows the table's OID.  Check the current
	 * user's privilege on it (a table dropped meanwhile is resolved by name
	 * below), then lock it, which processes pending invalidations; if none
	 * of them hit the table (a drop, rename, ALTER, GRANT or REVOKE would
	 * have), the name still means that table and the check stands.
	 */
	entry = hash_search(plan_cache, q->name, HASH_FIND, NULL);
	if (entry != NULL && entry->valid)
	{
		bool		is_missing = false;
		AclResult	aclresult;

		relid = entry->qrelid;
		aclresult = pg_class_aclcheck_ext(relid, GetUserId(), lock_privileges(mode),
										  &is_missing);
		if (aclresult != ACLCHECK_OK && !is_missing)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE,
						   psprintf("q_%s", q->name));
		if (!is_missing)
		{
			LockRelationOid(relid, mode);
			if (entry->valid)
			{
				plan_cache_touch(entry);
				q->qrelid = relid;
				q->entry = entry;
				return true;
			}
			UnlockRelationOid(relid, mode);
		}
	}

	snprintf(relname, sizeof(relname), "q_%s", q->name);
	relid = RangeVarGetRelidExtended(makeRangeVar("pgmq", relname, -1),
									 mode, RVR_MISSING_OK, check_lock_privilege, &mode);
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
		entry->in_sweep = false;
		memset(&entry->state, 0, sizeof(entry->state));
		MemoryContextSwitchTo(old);
		dlist_push_head(&lru_list, &entry->lru);
		plan_cache_entries++;
		index_relid(relid, entry);
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
	/* the entry resolved last owns the OID (a table renamed back and forth) */
	index_relid(relid, entry);
	plan_cache_touch(entry);

	q->qrelid = relid;
	q->entry = entry;
	plan_cache_trim();
	return true;
}

/*
 * Prepare sql (the text of spec) and keep the plan: a generic plan for a
 * PGMQ_FIXED_PLAN statement.  Connected to SPI.
 */
static SPIPlanPtr
prepare_kept(const char *sql, const PgmqPlanSpec *spec)
{
	SPIPlanPtr	plan;

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
	return plan;
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
	plan = prepare_kept(sql, spec);
	pfree(sql);
	entry->specs[entry->nplans] = spec;
	entry->plans[entry->nplans] = plan;
	entry->nplans++;
	return plan;
}

/*
 * Kept plans of statements tied to no queue (on pgmq's own tables, such as
 * the topic bindings): one per spec per backend, keyed by the spec's
 * address like a queue's plans, checked with SPI_plan_is_valid on every
 * fetch and rebuilt when stale (say, the extension was re-created).
 */
static const PgmqPlanSpec *global_specs[PGMQ_MAX_PLANS];
static SPIPlanPtr global_plans[PGMQ_MAX_PLANS];
static int	nglobal = 0;

/*
 * The kept plan of spec, whose SQL names no queue (it is used as is),
 * prepared on first use.  Must be called while connected to SPI.
 */
SPIPlanPtr
pgmq_global_plan(const PgmqPlanSpec *spec)
{
	int			i;

	for (i = 0; i < nglobal; i++)
	{
		if (global_specs[i] != spec)
			continue;
		if (SPI_plan_is_valid(global_plans[i]))
			return global_plans[i];
		/* stale: drop it, and the slot with it, then build afresh below */
		SPI_freeplan(global_plans[i]);
		nglobal--;
		global_specs[i] = global_specs[nglobal];
		global_plans[i] = global_plans[nglobal];
		break;
	}
	if (nglobal >= PGMQ_MAX_PLANS)
		elog(ERROR, "pgmq: too many kept plans");
	global_plans[nglobal] = prepare_kept(spec->sql, spec);
	global_specs[nglobal] = spec;
	return global_plans[nglobal++];
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
	plan_cache_remove(entry);
}
