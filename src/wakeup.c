/*
 * wakeup.c
 *	  The shared-memory registry of backends waiting for messages (in
 *	  read_with_poll and the read_grouped*_with_poll forms), and the
 *	  wakeups a transaction that sent to a queue gives them when it commits.
 *	  wait.c is the waiting side.  All of this exists only when pgmq is in
 *	  shared_preload_libraries; otherwise every function here is a cheap
 *	  no-op and waiters poll.
 *
 * Shape
 *	  - One slot per backend, indexed by PGPROC number (MaxBackends of them).
 *	    A backend has at most one registration at a time, so waiters can
 *	    never outnumber slots.  A registration is on one queue, or (for
 *	    read_multi_with_poll) on up to PGMQ_MAX_MULTI_QUEUES queues at once:
 *	    such a slot lists the queues' OIDs itself and is on no per-queue
 *	    list; a commit that wakes a queue also looks through the slots when
 *	    the shared count nmulti of such registrations is not zero (a scan of
 *	    MaxBackends slots under the shared lock, paid only while somebody
 *	    waits on several queues).
 *	  - A fixed-size shared hash of the queues somebody waits on, keyed by
 *	    (database OID, OID of pgmq.q_<name>); each entry heads a doubly
 *	    linked list of the slots waiting on that queue.  Its size is the
 *	    setting pgmq.max_waiting_queues (PGC_POSTMASTER).  When it is full, a
 *	    waiter on one more queue polls every poll_interval_ms, exactly as
 *	    without preloading, and a LOG message (at most one a minute) says so.
 *	  - A waiter sleeps on its own process latch; a waker sets the latch of
 *	    every slot listed under the queue.  Latches rather than a condition
 *	    variable per queue: the sleep must also end at a time the waiter
 *	    computes (when the next hidden message becomes visible) and on
 *	    interrupts, which WaitLatch gives directly, and the per-queue lists
 *	    are needed anyway to find the waiters of one queue.
 *
 * Senders
 *	  pgmq_wakeup_note_send() only remembers the queue in a backend-local
 *	  array: no shared memory, no allocation, no lock.  At XACT_EVENT_COMMIT,
 *	  which runs after the commit became visible to other snapshots
 *	  (ProcArrayEndTransaction), the waiters of the remembered queues are
 *	  woken; on abort and PREPARE the array is forgotten, so a rolled-back
 *	  send wakes nobody.  The shared count of waiters is read at commit and
 *	  not at send time on purpose: a waiter that registers between a send and
 *	  its commit must still be woken.  With nobody waiting anywhere, a commit
 *	  that sent costs one atomic read.  A send rolled back to a savepoint of
 *	  a transaction that then commits wakes the queue's waiters harmlessly.
 *	  COMMIT PREPARED (seen by a utility hook) and a transaction that sent to
 *	  more than MAX_NOTED_QUEUES queues wake every waiter of the database:
 *	  they read again and go back to sleep when nothing is theirs.
 *
 * Locking rules
 *	  - lock (one LWLock, tranche "pgmq_wakeup") protects the hash table and
 *	    the list fields (key, registered, prev, next) of every slot.  Only the
 *	    backend owning a slot changes it, holding lock exclusively; wakers
 *	    hold lock shared while they walk a list and set latches.  Nothing that
 *	    can raise an error runs while lock is held.
 *	  - nwaiters (atomic) counts registered slots.  It changes only under the
 *	    exclusive lock and is read without any lock by committing senders.
 *	  - A slot's wakeups (atomic) is bumped by wakers and read by its owner.
 *
 * No lost wakeups
 *	  A waiter registers (atomic increment of nwaiters: a full barrier)
 *	  BEFORE the read that finds nothing and decides to sleep; a committing
 *	  sender reads nwaiters after its commit is visible, behind a full
 *	  barrier.  So either that read sees the commit, or the sender sees the
 *	  registration, takes lock (ordered after the registration's release of
 *	  it) and sets the latch, and the waiter's WaitLatch returns at once.
 *
 * Cleanup
 *	  A registration ends when the resource owner current at registration is
 *	  released (the end of the statement), at transaction end (commit or
 *	  abort: a cancelled or failed waiter leaves nothing behind) and at
 *	  backend exit.  A registration still alive when a backend waits again
 *	  on the same queue is kept: it has covered every commit since.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "pg_compat.h"
#include "wakeup.h"

#define NO_SLOT (-1)

/* Queues one transaction remembers; past that its commit wakes the database. */
#define MAX_NOTED_QUEUES 16

/* Least time between two LOG messages about a full registry. */
#define FULL_LOG_INTERVAL_MS 60000

typedef struct WaitKey
{
	Oid			dbid;
	Oid			relid;			/* pgmq.q_<name> */
} WaitKey;

/* Hash entry: a queue somebody waits on. */
typedef struct WaitQueue
{
	WaitKey		key;
	int			head;			/* first waiting slot, or NO_SLOT */
	int			nwaiters;
} WaitQueue;

/* One per backend, indexed by PGPROC number. */
typedef struct WaiterSlot
{
	WaitKey		key;			/* queue waited on, while registered; relid
								 * InvalidOid for a wait on several queues */
	bool		registered;
	int			prev;
	int			next;
	int			nmulti;			/* queues in multi_relids (0: single wait) */
	Oid			multi_relids[PGMQ_MAX_MULTI_QUEUES];
	pg_atomic_uint32 wakeups;	/* commits that woke this slot */
} WaiterSlot;

typedef struct WakeupShared
{
	LWLock	   *lock;
	pg_atomic_uint32 nwaiters;	/* registered slots, all databases */
	pg_atomic_uint32 nmulti;	/* of which waits on several queues */
	TimestampTz last_full_log;	/* under lock, exclusive */
	int			nslots;
	WaiterSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} WakeupShared;

/* pgmq.max_waiting_queues */
static int	max_waiting_queues = 1024;

static ProcessUtility_hook_type prev_process_utility_hook = NULL;

/* Both NULL unless preloaded. */
static WakeupShared *wakeup = NULL;
static HTAB *wait_queues = NULL;

/* This backend's registration, mirroring its slot (read without lock). */
static bool my_registered = false;
static WaitKey my_key;			/* relid InvalidOid: my_multi below */
static int	my_nmulti = 0;
static Oid	my_multi[PGMQ_MAX_MULTI_QUEUES];
static ResourceOwner my_owner = NULL;
static bool exit_callback_set = false;

/* What this transaction's commit must wake. */
static Oid	noted[MAX_NOTED_QUEUES];
static int	n_noted = 0;
static bool noted_all = false;	/* every waiter of this database */

static Size
wakeup_struct_size(void)
{
	return add_size(offsetof(WakeupShared, slots),
					mul_size(MaxBackends, sizeof(WaiterSlot)));
}

/* pgmq_shmem_request (pgmq.c): reserve the registry (MaxBackends is known by now). */
void
pgmq_wakeup_shmem_request(void)
{
	RequestAddinShmemSpace(add_size(wakeup_struct_size(),
									hash_estimate_size(max_waiting_queues,
													   sizeof(WaitQueue))));
	RequestNamedLWLockTranche("pgmq_wakeup", 1);
}

/* pgmq_shmem_startup (pgmq.c), AddinShmemInitLock held: create or attach. */
void
pgmq_wakeup_shmem_startup(void)
{
	HASHCTL		ctl;
	bool		found;
	int			i;

	wakeup = ShmemInitStruct("pgmq wakeup", wakeup_struct_size(), &found);
	if (!found)
	{
		wakeup->lock = &(GetNamedLWLockTranche("pgmq_wakeup"))->lock;
		pg_atomic_init_u32(&wakeup->nwaiters, 0);
		pg_atomic_init_u32(&wakeup->nmulti, 0);
		wakeup->last_full_log = 0;
		wakeup->nslots = MaxBackends;
		for (i = 0; i < MaxBackends; i++)
		{
			WaiterSlot *slot = &wakeup->slots[i];

			slot->registered = false;
			slot->prev = slot->next = NO_SLOT;
			slot->nmulti = 0;
			pg_atomic_init_u32(&slot->wakeups, 0);
		}
	}
	ctl.keysize = sizeof(WaitKey);
	ctl.entrysize = sizeof(WaitQueue);
	wait_queues = ShmemInitHash("pgmq waiting queues",
								max_waiting_queues, max_waiting_queues, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

/* Take slot me off its queue's list; lock held exclusively. */
static void
unlink_slot(int me)
{
	WaiterSlot *slot = &wakeup->slots[me];
	WaitQueue  *wq;

	if (slot->nmulti > 0)
	{
		/* a wait on several queues is on no list */
		slot->nmulti = 0;
		slot->registered = false;
		pg_atomic_fetch_sub_u32(&wakeup->nmulti, 1);
		pg_atomic_fetch_sub_u32(&wakeup->nwaiters, 1);
		return;
	}
	wq = hash_search(wait_queues, &slot->key, HASH_FIND, NULL);
	Assert(slot->registered && wq != NULL);
	if (wq != NULL)
	{
		if (slot->prev != NO_SLOT)
			wakeup->slots[slot->prev].next = slot->next;
		else
			wq->head = slot->next;
		if (slot->next != NO_SLOT)
			wakeup->slots[slot->next].prev = slot->prev;
		if (--wq->nwaiters == 0)
			hash_search(wait_queues, &slot->key, HASH_REMOVE, NULL);
	}
	slot->registered = false;
	slot->prev = slot->next = NO_SLOT;
	pg_atomic_fetch_sub_u32(&wakeup->nwaiters, 1);
}

/* End this backend's registration, if it has one. */
static void
waiter_unregister(void)
{
	if (!my_registered)
		return;
	LWLockAcquire(wakeup->lock, LW_EXCLUSIVE);
	unlink_slot(pgmq_my_proc_number());
	LWLockRelease(wakeup->lock);
	my_registered = false;
	my_owner = NULL;
}

/* before_shmem_exit callback: a backend leaves no registration behind. */
static void
wakeup_before_shmem_exit(int code, Datum arg)
{
	waiter_unregister();
}

/*
 * Register this backend as a waiter on q, unless it already is.  Returns
 * PGMQ_WAIT_NEW when it registered just now (the caller must read again
 * before it sleeps), PGMQ_WAIT_READY when it was registered on q already,
 * PGMQ_WAIT_POLL when there is no registry or no room in it.
 */
PgmqWaitMode
pgmq_waiter_register(PgmqQueue *q)
{
	WaitKey		key;
	WaiterSlot *slot;
	WaitQueue  *wq;
	bool		found;
	bool		log_full = false;
	int			me;

	if (wakeup == NULL || MyProc == NULL || pgmq_my_proc_number() >= wakeup->nslots)
		return PGMQ_WAIT_POLL;

	key.dbid = MyDatabaseId;
	key.relid = q->qrelid;
	if (my_registered && my_nmulti == 0 &&
		my_key.dbid == key.dbid && my_key.relid == key.relid)
		return PGMQ_WAIT_READY;

	if (!exit_callback_set)
	{
		before_shmem_exit(wakeup_before_shmem_exit, (Datum) 0);
		exit_callback_set = true;
	}

	me = pgmq_my_proc_number();
	slot = &wakeup->slots[me];
	LWLockAcquire(wakeup->lock, LW_EXCLUSIVE);
	if (my_registered)
	{
		unlink_slot(me);
		my_registered = false;
		my_owner = NULL;
	}
	wq = hash_search(wait_queues, &key, HASH_ENTER_NULL, &found);
	if (wq == NULL)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (TimestampDifferenceExceeds(wakeup->last_full_log, now, FULL_LOG_INTERVAL_MS))
		{
			wakeup->last_full_log = now;
			log_full = true;
		}
		LWLockRelease(wakeup->lock);
		if (log_full)
			ereport(LOG,
					(errmsg("pgmq: no room to register waiters on more than %d queues, the others poll",
							max_waiting_queues),
					 errhint("Raise pgmq.max_waiting_queues (needs a restart).")));
		ereport(DEBUG1,
				(errmsg_internal("pgmq: no room to wait on queue \"%s\", polling",
								 q->name)));
		return PGMQ_WAIT_POLL;
	}
	if (!found)
	{
		wq->head = NO_SLOT;
		wq->nwaiters = 0;
	}
	slot->key = key;
	slot->prev = NO_SLOT;
	slot->next = wq->head;
	if (wq->head != NO_SLOT)
		wakeup->slots[wq->head].prev = me;
	wq->head = me;
	wq->nwaiters++;
	slot->registered = true;
	pg_atomic_fetch_add_u32(&wakeup->nwaiters, 1);
	LWLockRelease(wakeup->lock);

	my_registered = true;
	my_key = key;
	my_nmulti = 0;
	my_owner = CurrentResourceOwner;
	return PGMQ_WAIT_NEW;
}

/*
 * Register this backend as one waiter on all n queues of qs at once
 * (read_multi_with_poll), unless it already is.  Such a registration is on
 * no per-queue list: the slot holds the queues' OIDs, and a committing
 * sender looks through the slots of multi-queue waiters (counted by
 * nmulti) as well as its queue's list.  Same results as
 * pgmq_waiter_register(); n is at most PGMQ_MAX_MULTI_QUEUES.
 */
PgmqWaitMode
pgmq_waiter_register_multi(PgmqQueue *qs, int n)
{
	WaiterSlot *slot;
	int			me;
	int			i;

	Assert(n > 0 && n <= PGMQ_MAX_MULTI_QUEUES);
	if (wakeup == NULL || MyProc == NULL || pgmq_my_proc_number() >= wakeup->nslots)
		return PGMQ_WAIT_POLL;

	if (my_registered && my_nmulti == n && my_key.dbid == MyDatabaseId)
	{
		for (i = 0; i < n; i++)
			if (my_multi[i] != qs[i].qrelid)
				break;
		if (i == n)
			return PGMQ_WAIT_READY;
	}

	if (!exit_callback_set)
	{
		before_shmem_exit(wakeup_before_shmem_exit, (Datum) 0);
		exit_callback_set = true;
	}

	me = pgmq_my_proc_number();
	slot = &wakeup->slots[me];
	LWLockAcquire(wakeup->lock, LW_EXCLUSIVE);
	if (my_registered)
	{
		unlink_slot(me);
		my_registered = false;
		my_owner = NULL;
	}
	slot->key.dbid = MyDatabaseId;
	slot->key.relid = InvalidOid;
	slot->prev = slot->next = NO_SLOT;
	for (i = 0; i < n; i++)
		slot->multi_relids[i] = my_multi[i] = qs[i].qrelid;
	slot->nmulti = n;
	slot->registered = true;
	pg_atomic_fetch_add_u32(&wakeup->nmulti, 1);
	pg_atomic_fetch_add_u32(&wakeup->nwaiters, 1);
	LWLockRelease(wakeup->lock);

	my_registered = true;
	my_key = slot->key;
	my_nmulti = n;
	my_owner = CurrentResourceOwner;
	return PGMQ_WAIT_NEW;
}

/* How many commits have woken this backend's slot (0 without a registry). */
uint32
pgmq_waiter_wakeups(void)
{
	if (wakeup == NULL || MyProc == NULL || pgmq_my_proc_number() >= wakeup->nslots)
		return 0;
	return pg_atomic_read_u32(&wakeup->slots[pgmq_my_proc_number()].wakeups);
}

/* Set slot i's latch (not our own: we are committing, not waiting). */
static void
wake_slot(int i)
{
	if (i == pgmq_my_proc_number())
		return;
	pg_atomic_fetch_add_u32(&wakeup->slots[i].wakeups, 1);
	SetLatch(&GetPGProcByNumber(i)->procLatch);
}

/* Wake the waiters of queue relid in this database; lock held shared. */
static void
wake_queue(Oid relid)
{
	WaitKey		key;
	WaitQueue  *wq;
	int			i;

	key.dbid = MyDatabaseId;
	key.relid = relid;
	wq = hash_search(wait_queues, &key, HASH_FIND, NULL);
	if (wq != NULL)
		for (i = wq->head; i != NO_SLOT; i = wakeup->slots[i].next)
			wake_slot(i);

	/* waits on several queues: no list, look through the slots */
	if (pg_atomic_read_u32(&wakeup->nmulti) == 0)
		return;
	for (i = 0; i < wakeup->nslots; i++)
	{
		WaiterSlot *slot = &wakeup->slots[i];
		int			k;

		if (!slot->registered || slot->nmulti == 0 || slot->key.dbid != MyDatabaseId)
			continue;
		for (k = 0; k < slot->nmulti; k++)
		{
			if (slot->multi_relids[k] == relid)
			{
				wake_slot(i);
				break;
			}
		}
	}
}

/* Wake every waiter of this database; lock held shared. */
static void
wake_database(void)
{
	int			i;

	for (i = 0; i < wakeup->nslots; i++)
	{
		if (wakeup->slots[i].registered && wakeup->slots[i].key.dbid == MyDatabaseId)
			wake_slot(i);
	}
}

/* At commit: wake what this transaction noted, if anybody waits at all. */
static void
wake_noted(void)
{
	int			i;

	pg_memory_barrier();
	if (pg_atomic_read_u32(&wakeup->nwaiters) == 0)
		return;
	LWLockAcquire(wakeup->lock, LW_SHARED);
	if (noted_all)
		wake_database();
	else
		for (i = 0; i < n_noted; i++)
			wake_queue(noted[i]);
	LWLockRelease(wakeup->lock);
}

/* Transaction end: wake on commit, forget on abort/prepare, unregister. */
static void
wakeup_xact_callback(XactEvent event, void *arg)
{
	if (wakeup == NULL)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (n_noted > 0 || noted_all)
				wake_noted();
			/* FALLTHROUGH */
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			n_noted = 0;
			noted_all = false;
			waiter_unregister();
			break;
		default:
			break;
	}
}

/* Resource owner release: the statement that registered us has ended. */
static void
wakeup_resowner_callback(ResourceReleasePhase phase, bool isCommit,
						 bool isTopLevel, void *arg)
{
	if (my_registered && phase == RESOURCE_RELEASE_BEFORE_LOCKS &&
		CurrentResourceOwner == my_owner)
		waiter_unregister();
}

/*
 * ProcessUtility hook: COMMIT PREPARED may make sends of another session
 * visible, and which queues they went to is not known here, so its commit
 * wakes every waiter of the database.
 */
static void
wakeup_process_utility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, TransactionStmt) &&
		((TransactionStmt *) parsetree)->kind == TRANS_STMT_COMMIT_PREPARED)
		noted_all = true;

	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/*
 * A send (or anything else that can make messages of q visible sooner) was
 * made in this transaction: wake q's waiters when it commits.
 */
void
pgmq_wakeup_note_send(PgmqQueue *q)
{
	int			i;

	if (wakeup == NULL || noted_all)
		return;
	for (i = n_noted - 1; i >= 0; i--)
	{
		if (noted[i] == q->qrelid)
			return;
	}
	if (n_noted == MAX_NOTED_QUEUES)
		noted_all = true;
	else
		noted[n_noted++] = q->qrelid;
}

/*
 * Called once from _PG_init.  Without preloading there is no shared memory
 * to be had: define nothing, and waiters poll.
 */
void
pgmq_wakeup_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("pgmq.max_waiting_queues",
							"Most queues that can have consumers waiting in read_with_poll at once.",
							"Waiters on further queues poll every poll_interval_ms. "
							"Takes effect when pgmq is in shared_preload_libraries.",
							&max_waiting_queues,
							1024, 1, 1 << 20,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = wakeup_process_utility;
	RegisterXactCallback(wakeup_xact_callback, NULL);
	RegisterResourceReleaseCallback(wakeup_resowner_callback, NULL);
}
