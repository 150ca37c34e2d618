/*
 * stats.c
 *	  Per-queue cumulative statistics in shared memory (when pgmq is in
 *	  shared_preload_libraries): the counting calls of the message paths,
 *	  the functions behind the pgmq.stats view, pgmq.stats_reset() and
 *	  pgmq.stats_info(), and the settings pgmq.track_stats and
 *	  pgmq.max_tracked_queues.
 *
 * Shape
 *	  - A fixed-size shared hash of entries keyed by (database OID,
 *	    lower-cased queue name), at most pgmq.max_tracked_queues of them
 *	    (PGC_POSTMASTER).  Each entry holds one atomic 64-bit counter per
 *	    column of pgmq.stats, a signed atomic length estimate, the name as
 *	    the functions return it and when its counters were last reset.
 *	  - Past max_tracked_queues a queue that has no entry yet is not tracked:
 *	    its events are dropped and counted in the shared "untracked" counter
 *	    (pgmq.stats_info()); nothing is evicted.  Entries are freed when
 *	    drop_queue commits.
 *
 * Counting is transactional and costs the message path no shared memory
 *	  pgmq_stats_count() and friends add to a backend-local pending list
 *	  (one record per queue and subtransaction level): no lock, no atomic.
 *	  At commit (and PREPARE) the records are applied: per queue one hash
 *	  lookup under the LWLock in shared mode and one atomic add per nonzero
 *	  counter; an entry is created under the lock in exclusive mode, once
 *	  per queue.  At abort the records are dropped, and a subtransaction
 *	  abort drops the records of its level, so what a rolled-back statement
 *	  did is not counted and the length estimate is not thrown off by it.
 *	  A transaction that touches more than MAX_PENDING (queue, level) pairs
 *	  applies the newest record at once instead (counted even if it later
 *	  rolls back).
 *
 * Locking rules
 *	  - lock (one LWLock, tranche "pgmq_stats") protects the hash table and
 *	    each entry's key, display name and reset time.  Counters are atomics
 *	    and are added to with the lock held shared; stats_reset zeroes them
 *	    with the lock held exclusively, so an add is never half-lost.
 *	  - Nothing that can raise an error runs while lock is held.
 *
 * The length estimate
 *	  queue_length_estimate = messages stored - messages removed, as counted
 *	  here (never reset by stats_reset: it is a gauge).  A new entry starts
 *	  from the planner's row count of the queue table (pg_class.reltuples,
 *	  summed over partitions; read when a transaction first counts an event
 *	  of the queue: 0 for a new table), so a queue that held messages when
 *	  it was first counted (after a restart) starts near its size.  A
 *	  backend remembers the tables it has seen an entry for and skips that
 *	  lookup for them.  An entry made without the count (a queue dropped and
 *	  created again in one transaction) gets it at the first read of
 *	  pgmq.stats (seed_lengths).  Messages removed behind pgmq's back
 *	  (DELETE on the table, pg_partman retention) are not seen.  Reading it
 *	  never scans a queue.
 *
 * Entries nobody frees at commit (a dropped database; a queue table dropped
 * without drop_queue) are freed by stats_reset() without a name.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type_d.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_stats);
PG_FUNCTION_INFO_V1(pgmq_stats_reset);
PG_FUNCTION_INFO_V1(pgmq_stats_info);

/* The counters, in the column order of pgmq.stats. */
typedef enum StatCounter
{
	C_SENDS,
	C_MESSAGES_SENT,
	C_READS,
	C_MESSAGES_DELIVERED,
	C_REDELIVERIES,
	C_EMPTY_READS,
	C_DELETES,
	C_ARCHIVES,
	C_POPS,
	C_DEAD_LETTERED,
	C_POLL_WAKEUPS,
	NUM_COUNTERS
} StatCounter;

/* pgmq.stats: queue_name, the counters, queue_length_estimate, stats_reset */
#define STATS_NATTS (NUM_COUNTERS + 3)

/* (queue, subtransaction level) pairs one transaction keeps pending. */
#define MAX_PENDING 32

typedef struct StatsKey
{
	Oid			dbid;
	char		name[NAMEDATALEN];	/* lower-cased; zero-padded (HASH_BLOBS) */
} StatsKey;

typedef struct StatsEntry
{
	StatsKey	key;
	char		display[NAMEDATALEN];	/* as the pgmq functions return it */
	TimestampTz reset_at;
	pg_atomic_uint32 seeded;	/* the planner's row count was added */
	pg_atomic_uint64 length;	/* int64 in two's complement */
	pg_atomic_uint64 counters[NUM_COUNTERS];
} StatsEntry;

typedef struct StatsShared
{
	LWLock	   *lock;
	pg_atomic_uint64 untracked; /* events dropped: no room for an entry */
} StatsShared;

/* Counts of one queue at one subtransaction level, not yet applied. */
typedef struct Pending
{
	StatsKey	key;
	char		display[NAMEDATALEN];
	int			level;
	bool		forget;			/* drop_queue: free the entry first */
	Oid			relid;			/* the queue table, or InvalidOid */
	bool		seed_known;		/* seed is the planner's row count */
	int64		seed;			/* the length to start from if the entry is new */
	int64		dlength;
	uint64		counters[NUM_COUNTERS];
} Pending;

/* pgmq.track_stats, pgmq.max_tracked_queues */
static bool track_stats = true;
static int	max_tracked_queues = 5000;

/* Both NULL unless preloaded. */
static StatsShared *stats = NULL;
static HTAB *stats_hash = NULL;

static Pending pending[MAX_PENDING];
static int	npending = 0;

/*
 * Queue tables this backend has seen an entry for (direct-mapped by OID):
 * their pending records skip reading the planner's row count, which only a
 * new entry needs.  Never stale in a harmful way: an entry is removed only
 * when its table is dropped, and a new table has a new OID.
 */
#define KNOWN_SLOTS 64
static Oid	known_relids[KNOWN_SLOTS];

/* pgmq_shmem_request (pgmq.c): reserve the header and the hash. */
void
pgmq_stats_shmem_request(void)
{
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(StatsShared)),
									hash_estimate_size(max_tracked_queues,
													   sizeof(StatsEntry))));
	RequestNamedLWLockTranche("pgmq_stats", 1);
}

/* pgmq_shmem_startup (pgmq.c), AddinShmemInitLock held: create or attach. */
void
pgmq_stats_shmem_startup(void)
{
	HASHCTL		ctl;
	bool		found;

	stats = ShmemInitStruct("pgmq stats", sizeof(StatsShared), &found);
	if (!found)
	{
		stats->lock = &(GetNamedLWLockTranche("pgmq_stats"))->lock;
		pg_atomic_init_u64(&stats->untracked, 0);
	}
	ctl.keysize = sizeof(StatsKey);
	ctl.entrysize = sizeof(StatsEntry);
	stats_hash = ShmemInitHash("pgmq stats entries",
							   max_tracked_queues, max_tracked_queues, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
}

/* The hash key of queue name in this database: lower-cased, zero-padded. */
static void
make_key(const char *name, StatsKey *key)
{
	int			i;

	memset(key, 0, sizeof(*key));
	key->dbid = MyDatabaseId;
	for (i = 0; i < NAMEDATALEN - 1 && name[i] != '\0'; i++)
		key->name[i] = pg_ascii_tolower((unsigned char) name[i]);
}

/* Are events being counted in this backend? */
static inline bool
tracking(void)
{
	return stats != NULL && track_stats && OidIsValid(MyDatabaseId);
}

/* Add the counts of p to entry e; lock held (either mode). */
static void
add_to_entry(StatsEntry *e, const Pending *p)
{
	int			i;

	for (i = 0; i < NUM_COUNTERS; i++)
	{
		if (p->counters[i] != 0)
			pg_atomic_fetch_add_u64(&e->counters[i], (int64) p->counters[i]);
	}
	if (p->dlength != 0)
		pg_atomic_fetch_add_u64(&e->length, p->dlength);
}

/* Does p count anything? */
static bool
has_counts(const Pending *p)
{
	int			i;

	if (p->dlength != 0)
		return true;
	for (i = 0; i < NUM_COUNTERS; i++)
	{
		if (p->counters[i] != 0)
			return true;
	}
	return false;
}

/* Apply one pending record to shared memory.  Raises no error. */
static void
apply_pending(const Pending *p)
{
	StatsEntry *e;
	bool		found;
	int			i;

	if (p->forget)
	{
		LWLockAcquire(stats->lock, LW_EXCLUSIVE);
		hash_search(stats_hash, &p->key, HASH_REMOVE, NULL);
		LWLockRelease(stats->lock);
	}
	if (!has_counts(p))
		return;

	LWLockAcquire(stats->lock, LW_SHARED);
	e = hash_search(stats_hash, &p->key, HASH_FIND, NULL);
	if (e != NULL)
	{
		add_to_entry(e, p);
		LWLockRelease(stats->lock);
		if (OidIsValid(p->relid))
			known_relids[p->relid % KNOWN_SLOTS] = p->relid;
		return;
	}
	LWLockRelease(stats->lock);

	/* first event of this queue since it got tracked: create its entry */
	LWLockAcquire(stats->lock, LW_EXCLUSIVE);
	e = hash_search(stats_hash, &p->key, HASH_ENTER_NULL, &found);
	if (e == NULL)
		pg_atomic_fetch_add_u64(&stats->untracked, 1);
	else
	{
		if (!found)
		{
			memcpy(e->display, p->display, NAMEDATALEN);
			e->reset_at = GetCurrentTimestamp();
			pg_atomic_init_u32(&e->seeded, p->seed_known ? 1 : 0);
			pg_atomic_init_u64(&e->length, p->seed_known ? p->seed : 0);
			for (i = 0; i < NUM_COUNTERS; i++)
				pg_atomic_init_u64(&e->counters[i], 0);
		}
		add_to_entry(e, p);
		if (OidIsValid(p->relid))
			known_relids[p->relid % KNOWN_SLOTS] = p->relid;
	}
	LWLockRelease(stats->lock);
}

/*
 * pg_class.reltuples of relid, 0 when never counted or unknown, and 0 for a
 * partitioned table (ANALYZE gives it the sum of its partitions, which are
 * counted themselves).
 */
static int64
reltuples_of(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int64		rows = 0;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_class rel = (Form_pg_class) GETSTRUCT(tup);

		if (rel->relkind != RELKIND_PARTITIONED_TABLE && rel->reltuples > 0)
			rows = (int64) rel->reltuples;
		ReleaseSysCache(tup);
	}
	return rows;
}

/*
 * The planner's row count of queue table relid into *rows, the length a new
 * entry (key) starts from.  A plain table: one syscache lookup.  A
 * partitioned one: the sum over its partitions, read only while the queue
 * has no entry (a lookup under the lock in shared mode first), since
 * listing partitions costs a catalog scan.  False when not known.
 */
static bool
relation_rows(Oid relid, const StatsKey *key, int64 *rows)
{
	List	   *parts;
	ListCell   *lc;
	HeapTuple	tup;
	Form_pg_class rel;
	bool		tracked;

	*rows = 0;
	if (!OidIsValid(relid))
		return false;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return false;
	rel = (Form_pg_class) GETSTRUCT(tup);
	if (rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		if (rel->reltuples > 0)
			*rows = (int64) rel->reltuples;
		ReleaseSysCache(tup);
		return true;
	}
	ReleaseSysCache(tup);
	LWLockAcquire(stats->lock, LW_SHARED);
	tracked = hash_search(stats_hash, key, HASH_FIND, NULL) != NULL;
	LWLockRelease(stats->lock);
	if (tracked)
		return false;			/* not needed */
	parts = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, parts)
		*rows += reltuples_of(lfirst_oid(lc));
	list_free(parts);
	return true;
}

/*
 * The pending record of queue name (table relid, or InvalidOid) at the
 * current subtransaction level, made if need be; a new record notes the
 * table's planner row count, the length an entry made for it at commit
 * starts from.  When the list is full, its newest record is applied and
 * reused.
 */
static Pending *
pending_for(const char *name, Oid relid)
{
	StatsKey	key;
	int			level = GetCurrentTransactionNestLevel();
	Pending    *p;
	int			i;

	make_key(name, &key);
	for (i = npending - 1; i >= 0; i--)
	{
		p = &pending[i];
		if (p->level == level && memcmp(&p->key, &key, sizeof(key)) == 0)
			return p;
	}
	if (npending == MAX_PENDING)
		apply_pending(&pending[--npending]);
	p = &pending[npending++];
	memset(p, 0, sizeof(*p));
	p->key = key;
	strncpy(p->display, name, NAMEDATALEN - 1);	/* p is zeroed: stays terminated */
	p->level = level;
	p->relid = relid;
	if (OidIsValid(relid) && known_relids[relid % KNOWN_SLOTS] == relid)
		p->seed_known = false;	/* it has an entry: no seed needed */
	else
		p->seed_known = relation_rows(relid, &key, &p->seed);
	return p;
}

/* Count event ev of n messages on queue q (see PgmqStatEvent). */
void
pgmq_stats_count(PgmqQueue *q, PgmqStatEvent ev, uint64 n)
{
	Pending    *p;

	if (!tracking())
		return;
	p = pending_for(q->name, q->qrelid);
	switch (ev)
	{
		case PGMQ_STAT_SEND:
			p->counters[C_SENDS]++;
			p->counters[C_MESSAGES_SENT] += n;
			p->dlength += (int64) n;
			break;
		case PGMQ_STAT_ENQUEUED:
			p->counters[C_MESSAGES_SENT] += n;
			p->dlength += (int64) n;
			break;
		case PGMQ_STAT_DELETE:
			p->counters[C_DELETES] += n;
			p->dlength -= (int64) n;
			break;
		case PGMQ_STAT_ARCHIVE:
			p->counters[C_ARCHIVES] += n;
			p->dlength -= (int64) n;
			break;
		case PGMQ_STAT_POP:
			p->counters[C_POPS] += n;
			p->dlength -= (int64) n;
			break;
		case PGMQ_STAT_DEAD_LETTER:
			p->counters[C_DEAD_LETTERED] += n;
			p->dlength -= (int64) n;
			break;
		case PGMQ_STAT_REMOVED:
			p->dlength -= (int64) n;
			break;
		case PGMQ_STAT_POLL_WAKEUP:
			p->counters[C_POLL_WAKEUPS] += n;
			break;
	}
}

/* A send call stored n messages in q: count it, return n. */
uint64
pgmq_stats_sent(PgmqQueue *q, uint64 n)
{
	pgmq_stats_count(q, PGMQ_STAT_SEND, n);
	return n;
}

/* n messages of q were moved to its dead-letter queue dlq. */
void
pgmq_stats_dead_letter(PgmqQueue *q, PgmqQueue *dlq, uint64 n)
{
	pgmq_stats_count(q, PGMQ_STAT_DEAD_LETTER, n);
	pgmq_stats_count(dlq, PGMQ_STAT_ENQUEUED, n);
}

/* The tuplestore a set-returning call filled, or NULL. */
static Tuplestorestate *
result_store(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		return NULL;
	return rsinfo->setResult;
}

/*
 * How many rows of the message_record rows in fcinfo's tuplestore have
 * read_ct > 1.  The store is read from its start and rewound again, so the
 * executor still gets every row.
 */
static uint64
count_redelivered(FunctionCallInfo fcinfo, Tuplestorestate *ts)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	desc = rsinfo->setDesc;
	TupleTableSlot *slot;
	uint64		n = 0;

	/* only the message_record shape has read_ct as its 2nd column */
	if (desc == NULL || desc->natts < 2 ||
		TupleDescAttr(desc, 1)->atttypid != INT4OID ||
		strcmp(NameStr(TupleDescAttr(desc, 1)->attname), "read_ct") != 0)
		return 0;
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, 2, &isnull);

		if (!isnull && DatumGetInt32(d) > 1)
			n++;
	}
	tuplestore_rescan(ts);
	ExecDropSingleTupleTableSlot(slot);
	return n;
}

/*
 * A read call on q has put its messages into fcinfo's tuplestore (and
 * nothing else is in it): count the call, the messages, the redelivered
 * ones, and an empty read.
 */
void
pgmq_stats_read(PgmqQueue *q, FunctionCallInfo fcinfo)
{
	Tuplestorestate *ts;
	Pending    *p;
	uint64		n;

	if (!tracking() || (ts = result_store(fcinfo)) == NULL)
		return;
	n = (uint64) tuplestore_tuple_count(ts);
	p = pending_for(q->name, q->qrelid);
	p->counters[C_READS]++;
	if (n == 0)
		p->counters[C_EMPTY_READS]++;
	else
	{
		p->counters[C_MESSAGES_DELIVERED] += n;
		p->counters[C_REDELIVERIES] += count_redelivered(fcinfo, ts);
	}
}

/* Count ev for as many messages as fcinfo's tuplestore holds. */
void
pgmq_stats_emitted(PgmqQueue *q, PgmqStatEvent ev, FunctionCallInfo fcinfo)
{
	Tuplestorestate *ts;

	if (!tracking() || (ts = result_store(fcinfo)) == NULL)
		return;
	pgmq_stats_count(q, ev, (uint64) tuplestore_tuple_count(ts));
}

/* drop_queue(name): free the queue's entry when this transaction commits. */
void
pgmq_stats_forget(const char *name)
{
	Pending    *p;

	if (stats == NULL || !OidIsValid(MyDatabaseId))
		return;
	p = pending_for(name, InvalidOid);
	/* what this level counted before the drop belongs to the dropped queue */
	memset(p->counters, 0, sizeof(p->counters));
	p->dlength = 0;
	p->forget = true;
}

/* Transaction end: apply at commit and prepare, forget at abort. */
static void
stats_xact_callback(XactEvent event, void *arg)
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (stats != NULL)
			{
				for (i = 0; i < npending; i++)
					apply_pending(&pending[i]);
			}
			npending = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			npending = 0;
			break;
		default:
			break;
	}
}

/*
 * Subtransaction end: on commit its records become the parent's, on abort
 * they are dropped.  The callback runs while the ending subtransaction is
 * still the current one.
 */
static void
stats_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level;
	int			i;
	int			kept;

	if (npending == 0)
		return;
	level = GetCurrentTransactionNestLevel();
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (i = 0; i < npending; i++)
		{
			if (pending[i].level >= level)
				pending[i].level = level - 1;
		}
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		kept = 0;
		for (i = 0; i < npending; i++)
		{
			if (pending[i].level < level)
				pending[kept++] = pending[i];
		}
		npending = kept;
	}
}

/* Raise the error every statistics function gives without preloading. */
static void
require_preloaded(void)
{
	if (stats == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pgmq statistics need pgmq in shared_preload_libraries"),
				 errhint("Add pgmq to shared_preload_libraries in postgresql.conf and restart the server.")));
}

/* One entry copied out of shared memory. */
typedef struct EntryCopy
{
	char		display[NAMEDATALEN];
	StatsKey	key;
	bool		seeded;
	int64		length;
	uint64		counters[NUM_COUNTERS];
	TimestampTz reset_at;
} EntryCopy;

static int
entry_copy_cmp(const void *a, const void *b)
{
	return strcmp(((const EntryCopy *) a)->key.name, ((const EntryCopy *) b)->key.name);
}

/*
 * The planner's row count of queue name's table (reltuples; summed over
 * the partitions of a partitioned queue), 0 when unknown.  Reads catalogs
 * only: its cost does not depend on how many messages the queue holds.
 */
static int64
planner_rows(const char *name)
{
	Oid			relid = pgmq_table_oid("q", name);
	List	   *rels;
	ListCell   *lc;
	int64		total = 0;

	if (!OidIsValid(relid))
		return 0;
	rels = get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ?
		find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	foreach(lc, rels)
		total += reltuples_of(lfirst_oid(lc));
	return total;
}

/* Add the planner's row count to the unseeded entries among copies. */
static void
seed_lengths(EntryCopy *copies, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		int64		rows;
		StatsEntry *e;
		uint32		expected = 0;

		if (copies[i].seeded)
			continue;
		rows = planner_rows(copies[i].display);
		LWLockAcquire(stats->lock, LW_SHARED);
		e = hash_search(stats_hash, &copies[i].key, HASH_FIND, NULL);
		if (e != NULL && pg_atomic_compare_exchange_u32(&e->seeded, &expected, 1))
		{
			pg_atomic_fetch_add_u64(&e->length, rows);
			copies[i].length += rows;
		}
		else if (e != NULL)
			copies[i].length = (int64) pg_atomic_read_u64(&e->length);
		LWLockRelease(stats->lock);
	}
}

/*
 * pgmq.stats() RETURNS SETOF record: one row per queue of this database
 * with events counted since its last reset, in name order.  Reads shared
 * memory and, once per entry, the catalogs; never a queue.
 */
Datum
pgmq_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	StatsEntry *e;
	EntryCopy  *copies;
	int			n = 0;
	int			cap;
	int			i;
	int			c;

	require_preloaded();
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (rsinfo->setDesc->natts != STATS_NATTS)
		elog(ERROR, "pgmq: pgmq.stats() must return %d columns", STATS_NATTS);

	cap = max_tracked_queues;
	copies = palloc(sizeof(EntryCopy) * cap);
	LWLockAcquire(stats->lock, LW_SHARED);
	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		EntryCopy  *cp;
		bool		any = false;

		if (e->key.dbid != MyDatabaseId || n == cap)
			continue;
		cp = &copies[n];
		for (c = 0; c < NUM_COUNTERS; c++)
		{
			cp->counters[c] = pg_atomic_read_u64(&e->counters[c]);
			any |= (cp->counters[c] != 0);
		}
		if (!any)
			continue;			/* no events since its last reset */
		memcpy(cp->display, e->display, NAMEDATALEN);
		cp->key = e->key;
		cp->seeded = pg_atomic_read_u32(&e->seeded) != 0;
		cp->length = (int64) pg_atomic_read_u64(&e->length);
		cp->reset_at = e->reset_at;
		n++;
	}
	LWLockRelease(stats->lock);

	seed_lengths(copies, n);
	qsort(copies, n, sizeof(EntryCopy), entry_copy_cmp);
	for (i = 0; i < n; i++)
	{
		Datum		values[STATS_NATTS];
		bool		nulls[STATS_NATTS] = {0};

		values[0] = CStringGetTextDatum(copies[i].display);
		for (c = 0; c < NUM_COUNTERS; c++)
			values[c + 1] = Int64GetDatum((int64) copies[i].counters[c]);
		values[NUM_COUNTERS + 1] = Int64GetDatum(Max(copies[i].length, 0));
		values[NUM_COUNTERS + 2] = TimestampTzGetDatum(copies[i].reset_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Zero the counters of entry e; lock held exclusively. */
static void
reset_entry(StatsEntry *e, TimestampTz now)
{
	int			c;

	for (c = 0; c < NUM_COUNTERS; c++)
		pg_atomic_write_u64(&e->counters[c], 0);
	e->reset_at = now;
}

/*
 * Free the entries nobody will free: of databases that no longer exist, and
 * of this database's queues whose table is gone without drop_queue (DROP
 * EXTENSION, DROP TABLE).  Catalog lookups run without the lock; an entry
 * is then removed only if it is still there.
 */
static void
free_orphans(void)
{
	HASH_SEQ_STATUS seq;
	StatsEntry *e;
	StatsKey   *keys;
	char	  (*names)[NAMEDATALEN];
	bool	   *gone;
	int			n = 0;
	int			i;

	keys = palloc(sizeof(StatsKey) * max_tracked_queues);
	names = palloc(sizeof(*names) * max_tracked_queues);
	gone = palloc0(sizeof(bool) * max_tracked_queues);
	LWLockAcquire(stats->lock, LW_SHARED);
	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (n < max_tracked_queues)
		{
			keys[n] = e->key;
			memcpy(names[n++], e->display, NAMEDATALEN);
		}
	}
	LWLockRelease(stats->lock);

	for (i = 0; i < n; i++)
	{
		if (keys[i].dbid != MyDatabaseId)
			gone[i] = !SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(keys[i].dbid));
		else
			gone[i] = !OidIsValid(pgmq_table_oid("q", names[i]));
	}

	LWLockAcquire(stats->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
	{
		if (gone[i])
			hash_search(stats_hash, &keys[i], HASH_REMOVE, NULL);
	}
	LWLockRelease(stats->lock);
}

/*
 * pgmq.stats_reset(queue_name text DEFAULT NULL) RETURNS void
 *
 * Zero the counters of one queue, or (NULL) of every queue of this
 * database.  The length estimate is kept: it is a gauge, not a count.  A
 * valid name without statistics is not an error (there is nothing to zero).
 * Without a name it also frees orphaned entries (free_orphans).
 */
Datum
pgmq_stats_reset(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];
	TimestampTz now = GetCurrentTimestamp();
	StatsKey	key;
	HASH_SEQ_STATUS seq;
	StatsEntry *e;

	require_preloaded();
	if (!PG_ARGISNULL(0))
	{
		pgmq_name_arg(fcinfo, 0, name);
		make_key(name, &key);
		LWLockAcquire(stats->lock, LW_EXCLUSIVE);
		e = hash_search(stats_hash, &key, HASH_FIND, NULL);
		if (e != NULL)
			reset_entry(e, now);
		LWLockRelease(stats->lock);
		PG_RETURN_VOID();
	}
	free_orphans();
	LWLockAcquire(stats->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, stats_hash);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid == MyDatabaseId)
			reset_entry(e, now);
	}
	LWLockRelease(stats->lock);
	PG_RETURN_VOID();
}

/*
 * pgmq.stats_info(OUT max_tracked_queues integer, OUT tracked_queues
 * integer, OUT untracked_events bigint): the capacity of the statistics,
 * the entries in use (all databases) and how many commits' events were
 * dropped because no entry could be made.
 */
Datum
pgmq_stats_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	long		used;

	require_preloaded();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "pgmq: stats_info must return a row type");
	LWLockAcquire(stats->lock, LW_SHARED);
	used = hash_get_num_entries(stats_hash);
	LWLockRelease(stats->lock);
	values[0] = Int32GetDatum(max_tracked_queues);
	values[1] = Int32GetDatum((int32) used);
	values[2] = Int64GetDatum((int64) pg_atomic_read_u64(&stats->untracked));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * Called once from _PG_init.  pgmq.track_stats exists always; the shared
 * memory (and pgmq.max_tracked_queues) only when preloading.
 */
void
pgmq_stats_init(void)
{
	DefineCustomBoolVariable("pgmq.track_stats",
							 "Counts queue events for the pgmq.stats view.",
							 "Takes effect when pgmq is in shared_preload_libraries.",
							 &track_stats,
							 true,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomIntVariable("pgmq.max_tracked_queues",
							"Most queues pgmq.stats keeps statistics for (all databases).",
							"Events of further queues are not counted; pgmq.stats_info() counts them.",
							&max_tracked_queues,
							5000, 10, 1 << 20,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	RegisterXactCallback(stats_xact_callback, NULL);
	RegisterSubXactCallback(stats_subxact_callback, NULL);
}
