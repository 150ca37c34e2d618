/*
 * horizon.c
 *	  The per-queue read start position in shared memory, and every way a
 *	  writer moves it back (docs/horizon.md).
 *
 * Invariant (per queue table, for the slot's lifetime): every row version
 * of the table whose vt is below the slot's start was deleted or updated by
 * a committed transaction, or inserted by an aborted one.  Such a version
 * can never be delivered again, so a read may start its (vt, msg_id) index
 * scan at vt >= start (pgmq._horizon_start(), evaluated by the read's own
 * statement, after its snapshot was taken).  While the MVCC horizon is
 * pinned those versions cannot be vacuumed, and without the start position
 * every read would step over all of them.
 *
 * Who moves it
 *	  - Forward: only read_scan.c, one scanner per queue at a time, through
 *	    pgmq_horizon_claim() and pgmq_horizon_release().
 *	  - Back: every statement that can create a version of a queue row, once
 *	    its versions are in the table and before its transaction can commit
 *	    (ExecutorEnd for INSERT/UPDATE/MERGE, after COPY FROM): start and
 *	    the running scanner's cap go down to the lowest vt it may have
 *	    written.  A pgmq statement states that vt beforehand
 *	    (pgmq_horizon_expect_write); any other statement, and a pgmq one
 *	    that did not, moves the start back to -infinity.
 *	  - Gone: dropping the table or its database frees the slot; a full
 *	    table of slots evicts the least recently used idle one.  A missing
 *	    slot means -infinity, the plain full scan.
 *
 * Why a scan cannot pass a version written concurrently: a writer's versions
 * are in the index before it moves the start back.  A scan claimed after
 * that sees them (live or in progress: it stops there).  A scan claimed
 * before that gets its cap lowered, and its release never sets the start
 * above the cap.
 *
 * All of this needs shared memory: without shared_preload_libraries nothing
 * is registered, reads scan from -infinity and no hook is installed.
 * pgmq.read_start_position = off makes reads ignore and stop moving the
 * start forward; writers keep moving it back, so it is right when turned on.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class_d.h"
#include "catalog/pg_database_d.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "horizon.h"

PG_FUNCTION_INFO_V1(pgmq_horizon_start);

/* queues with a start position at a time, all databases */
#define HORIZON_SLOTS 256

typedef struct HorizonSlot
{
	Oid			dboid;			/* InvalidOid: free */
	Oid			relid;			/* pgmq.q_<name> */
	uint32		gen;			/* bumped whenever the slot is (re)assigned or freed */
	bool		scanning;		/* a scanner holds a claim */
	int			scanner_pid;
	TimestampTz start;			/* the invariant's bound */
	TimestampTz scan_cap;		/* lowest vt written since the claim */
	uint64		last_used;
} HorizonSlot;

typedef struct HorizonShared
{
	slock_t		mutex;			/* protects everything below */
	uint64		clock;			/* for last_used */
	HorizonSlot slots[HORIZON_SLOTS];
} HorizonShared;

static HorizonShared *horizon = NULL;
static bool read_start_position = true;

static ExecutorEnd_hook_type prev_executor_end_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* the claim this backend holds, for cleanup at exit */
static int	my_claim_slot = -1;
static uint32 my_claim_gen = 0;
static bool exit_callback_registered = false;

/* what the next pgmq statement on expect_relid writes (see expect_write) */
static bool expect_set = false;
static Oid	expect_relid = InvalidOid;
static TimestampTz expect_key = DT_NOBEGIN;

#define FIXED_PLAN_MARK_LEN (sizeof(PGMQ_FIXED_PLAN) - 1)

/* pgmq_shmem_request (pgmq.c): reserve the slots. */
void
pgmq_horizon_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(HorizonShared)));
}

/* pgmq_shmem_startup (pgmq.c), AddinShmemInitLock held: create or attach. */
void
pgmq_horizon_shmem_startup(void)
{
	bool		found;

	horizon = pgmq_shmem_struct("pgmq read start positions", sizeof(HorizonShared), &found);
	if (!found)
		SpinLockInit(&horizon->mutex);
}

/* The slot of (this database, relid), or -1; mutex held. */
static int
find_slot(Oid relid)
{
	static int	hint = 0;
	int			i;

	if (horizon->slots[hint].relid == relid && horizon->slots[hint].dboid == MyDatabaseId)
		return hint;
	for (i = 0; i < HORIZON_SLOTS; i++)
	{
		if (horizon->slots[i].relid == relid && horizon->slots[i].dboid == MyDatabaseId)
		{
			hint = i;
			return i;
		}
	}
	return -1;
}

/* A slot for (this database, relid), taking a free or the LRU idle one; mutex held. */
static int
assign_slot(Oid relid)
{
	int			victim = -1;
	int			i;
	HorizonSlot *s;

	for (i = 0; i < HORIZON_SLOTS; i++)
	{
		s = &horizon->slots[i];
		if (!OidIsValid(s->dboid))
		{
			victim = i;
			break;
		}
		if (!s->scanning &&
			(victim < 0 || s->last_used < horizon->slots[victim].last_used))
			victim = i;
	}
	if (victim < 0)
		return -1;
	s = &horizon->slots[victim];
	s->dboid = MyDatabaseId;
	s->relid = relid;
	s->gen++;
	s->scanning = false;
	s->scanner_pid = 0;
	s->start = DT_NOBEGIN;
	s->scan_cap = DT_NOEND;
	return victim;
}

/* Free slots of dboid (and relid, unless InvalidOid); mutex held. */
static void
free_slots(Oid dboid, Oid relid)
{
	int			i;

	for (i = 0; i < HORIZON_SLOTS; i++)
	{
		HorizonSlot *s = &horizon->slots[i];

		if (s->dboid == dboid && (!OidIsValid(relid) || s->relid == relid))
		{
			s->dboid = InvalidOid;
			s->relid = InvalidOid;
			s->gen++;
			s->scanning = false;
			s->scanner_pid = 0;
		}
	}
}

/*
 * A statement wrote versions of table relid with no vt below key (and they
 * are in the table now): move the start, and the cap of a running scan,
 * back to key.
 */
static void
note_write(Oid relid, TimestampTz key)
{
	int			i;

	/*
	 * Most statements touch no queue with a slot: look without the lock
	 * first.  A claim this misses was stored before a full barrier in the
	 * scanner (its LWLock on the index page) and our versions were in the
	 * index before one of ours (the buffer lock released, and this one), so
	 * that scan sees our versions.
	 */
	pg_memory_barrier();
	for (i = 0; i < HORIZON_SLOTS; i++)
	{
		if (horizon->slots[i].relid == relid)
			break;
	}
	if (i == HORIZON_SLOTS)
		return;

	SpinLockAcquire(&horizon->mutex);
	i = find_slot(relid);
	if (i >= 0)
	{
		HorizonSlot *s = &horizon->slots[i];

		if (key < s->start)
			s->start = key;
		if (s->scanning && key < s->scan_cap)
			s->scan_cap = key;
	}
	SpinLockRelease(&horizon->mutex);
}

/* Does this ModifyTable-headed plan write (not only delete) RT index rti? 1 yes, 0 no, -1 unknown */
static int
plan_writes(Plan *plan, int rti)
{
	ModifyTable *mt;

	if (plan == NULL || !IsA(plan, ModifyTable))
		return -1;
	mt = (ModifyTable *) plan;
	if (!list_member_int(mt->resultRelations, rti))
		return -1;
	return mt->operation != CMD_DELETE;
}

/*
 * May a BEFORE ROW trigger of result relation rti have changed the rows a
 * statement wrote (and so their vt)?  Then its stated vt is not trusted.
 */
static bool
before_row_triggers(EState *estate, int rti)
{
	ResultRelInfo *rri;

	if (estate == NULL || estate->es_result_relations == NULL)
		return true;
	rri = estate->es_result_relations[rti - 1];
	if (rri == NULL)
		return true;
	return rri->ri_TrigDesc != NULL &&
		(rri->ri_TrigDesc->trig_insert_before_row ||
		 rri->ri_TrigDesc->trig_update_before_row);
}

/*
 * ExecutorEnd: every result relation of the statement that may have got
 * new versions moves its start back (to the expected vt for a pgmq
 * statement that stated one and whose table has no BEFORE ROW trigger,
 * else to -infinity).  DELETE targets create no version and are left alone.
 */
static void
note_statement(QueryDesc *qd)
{
	PlannedStmt *ps = qd->plannedstmt;
	bool		ours;
	ListCell   *lc;

	ours = qd->sourceText != NULL &&
		strncmp(qd->sourceText, PGMQ_FIXED_PLAN, FIXED_PLAN_MARK_LEN) == 0;
	foreach(lc, ps->resultRelations)
	{
		int			rti = lfirst_int(lc);
		int			writes = plan_writes(ps->planTree, rti);
		ListCell   *sp;
		Oid			relid;

		foreach(sp, ps->subplans)
		{
			if (writes < 0)
				writes = plan_writes((Plan *) lfirst(sp), rti);
		}
		if (writes == 0)
			continue;
		relid = rt_fetch(rti, ps->rtable)->relid;
		if (ours && expect_set && expect_relid == relid &&
			!before_row_triggers(qd->estate, rti))
		{
			note_write(relid, expect_key);
			expect_set = false;
		}
		else
			note_write(relid, DT_NOBEGIN);
	}
}

static void
horizon_executor_end(QueryDesc *qd)
{
	if (qd->plannedstmt != NULL && qd->plannedstmt->resultRelations != NIL)
		note_statement(qd);
	if (prev_executor_end_hook)
		prev_executor_end_hook(qd);
	else
		standard_ExecutorEnd(qd);
}

/* COPY FROM into a queue table moves its start back to -infinity. */
static void
horizon_process_utility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->is_from &&
		((CopyStmt *) stmt)->relation != NULL)
	{
		Oid			relid = RangeVarGetRelid(((CopyStmt *) stmt)->relation, NoLock, true);

		if (OidIsValid(relid))
			note_write(relid, DT_NOBEGIN);
	}
}

/* A dropped table or database takes its slots with it (OIDs get reused). */
static void
horizon_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_DROP)
		return;
	if (classId == RelationRelationId && subId == 0)
	{
		SpinLockAcquire(&horizon->mutex);
		free_slots(MyDatabaseId, objectId);
		SpinLockRelease(&horizon->mutex);
	}
	else if (classId == DatabaseRelationId)
	{
		SpinLockAcquire(&horizon->mutex);
		free_slots(objectId, InvalidOid);
		SpinLockRelease(&horizon->mutex);
	}
}

/* An expectation never outlives the (sub)transaction that stated it. */
static void
horizon_xact_cb(XactEvent event, void *arg)
{
	expect_set = false;
}

static void
horizon_subxact_cb(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		expect_set = false;
}

/* Called once from _PG_init. */
void
pgmq_horizon_init(void)
{
	DefineCustomBoolVariable("pgmq.read_start_position",
							 "Reads start after the committed-dead head of a queue (see docs/horizon.md).",
							 "Needs pgmq in shared_preload_libraries.",
							 &read_start_position, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_executor_end_hook = ExecutorEnd_hook;
	ExecutorEnd_hook = horizon_executor_end;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = horizon_process_utility;
	prev_object_access_hook = object_access_hook;
	object_access_hook = horizon_object_access;
	RegisterXactCallback(horizon_xact_cb, NULL);
	RegisterSubXactCallback(horizon_subxact_cb, NULL);
}

/* Are start positions in use (preloaded and turned on)? */
bool
pgmq_horizon_enabled(void)
{
	return horizon != NULL && read_start_position;
}

/*
 * The next pgmq statement (one starting with PGMQ_FIXED_PLAN) that inserts or
 * updates rows of relid writes no vt below lowest_vt.  Cleared by
 * pgmq_horizon_expect_done() and at (sub)transaction end.
 */
void
pgmq_horizon_expect_write(Oid relid, TimestampTz lowest_vt)
{
	expect_relid = relid;
	expect_key = lowest_vt;
	expect_set = true;
}

void
pgmq_horizon_expect_done(void)
{
	expect_set = false;
}

/* before_shmem_exit: give back a claim an error or FATAL left behind */
static void
horizon_exit_cb(int code, Datum arg)
{
	HorizonClaim c;

	if (my_claim_slot < 0)
		return;
	c.slot = my_claim_slot;
	c.gen = my_claim_gen;
	c.start = DT_NOBEGIN;
	pgmq_horizon_release(&c, false, DT_NOBEGIN);
}

/*
 * Claim relid's slot (assigning one) for a forward scan.  False when start
 * positions are off, no slot is free, or another backend is scanning.
 */
bool
pgmq_horizon_claim(Oid relid, HorizonClaim *claim)
{
	HorizonSlot *s;
	int			i;

	if (!pgmq_horizon_enabled() || my_claim_slot >= 0)
		return false;
	if (!exit_callback_registered)
	{
		before_shmem_exit(horizon_exit_cb, (Datum) 0);
		exit_callback_registered = true;
	}
	SpinLockAcquire(&horizon->mutex);
	i = find_slot(relid);
	if (i < 0)
		i = assign_slot(relid);
	if (i < 0 || horizon->slots[i].scanning)
	{
		SpinLockRelease(&horizon->mutex);
		return false;
	}
	s = &horizon->slots[i];
	s->scanning = true;
	s->scanner_pid = MyProcPid;
	s->scan_cap = DT_NOEND;
	s->last_used = ++horizon->clock;
	claim->slot = i;
	claim->gen = s->gen;
	claim->start = s->start;
	my_claim_slot = i;
	my_claim_gen = s->gen;
	SpinLockRelease(&horizon->mutex);
	return true;
}

/*
 * End a claim.  With advance, the scan found every version with vt below
 * new_start committed-dead (as of its claim): the start moves up to
 * new_start, but not past any vt written since the claim.
 */
void
pgmq_horizon_release(const HorizonClaim *claim, bool advance, TimestampTz new_start)
{
	HorizonSlot *s = &horizon->slots[claim->slot];

	SpinLockAcquire(&horizon->mutex);
	if (s->gen == claim->gen && s->scanning && s->scanner_pid == MyProcPid)
	{
		if (advance)
		{
			TimestampTz v = Min(new_start, s->scan_cap);

			s->start = Max(s->start, v);
		}
		s->scanning = false;
		s->scanner_pid = 0;
	}
	SpinLockRelease(&horizon->mutex);
	my_claim_slot = -1;
}

/* relid's start position now (-infinity without a slot), for read_scan.c */
TimestampTz
pgmq_horizon_current(Oid relid)
{
	TimestampTz start = DT_NOBEGIN;
	int			i;

	if (!pgmq_horizon_enabled())
		return start;
	SpinLockAcquire(&horizon->mutex);
	i = find_slot(relid);
	if (i >= 0)
		start = horizon->slots[i].start;
	SpinLockRelease(&horizon->mutex);
	return start;
}

/*
 * pgmq._horizon_start(queue_table oid) returns timestamptz: where a read of
 * that queue table may start its vt range (-infinity when there is no
 * position).  Called inside the read statement, so the value is read after
 * the statement's snapshot was taken.
 */
Datum
pgmq_horizon_start(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TimestampTz start = DT_NOBEGIN;
	int			i;

	if (pg_class_aclmask(relid, GetUserId(),
						 ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE,
						 ACLMASK_ANY) == 0)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
	if (!pgmq_horizon_enabled())
		PG_RETURN_TIMESTAMPTZ(start);
	SpinLockAcquire(&horizon->mutex);
	i = find_slot(relid);
	if (i >= 0)
	{
		start = horizon->slots[i].start;
		horizon->slots[i].last_used = ++horizon->clock;
	}
	SpinLockRelease(&horizon->mutex);
	PG_RETURN_TIMESTAMPTZ(start);
}
