/*
 * priority_hint.c
 *	  What lets a read of a prioritised queue skip probing a priority: one
 *	  shared insertion counter per priority, bumped whenever an entry of that
 *	  priority may enter a priority index, and the hints a backend keeps (in
 *	  each queue's PgmqQueueState) of where a priority's first entry lay.
 *
 * A probe of priority p (priority.c) that finds no entry in (p, -infinity)
 * .. (p, now) also learns T, the vt of p's first entry (+infinity when p has
 * none).  Index entries are only ever added (vacuum removes dead ones, which
 * keeps T a lower bound), so until a new entry of p arrives, no message of p
 * can be visible before T: not a rolled-back read (its message's old entry
 * was already there), not a lock released.  New entries are counted by the
 * index expression itself: pgmq._message_priority() is evaluated for every
 * entry any statement inserts into any priority index (sends, reads, set_vt,
 * SQL written by hand, COPY, index builds, logical replication), and bumps
 * the counter of the priority it returns.  An entry is inserted after that
 * bump, so a probe between the two could miss it and still keep the old
 * counter value: every transaction that bumped a counter bumps it again
 * before it commits or prepares (after its last insertion), which is before
 * anyone can see its rows.  So a hint (T, counter value read before the
 * probe) proves "no visible message of p" while now < T and the counter has
 * not moved.  Other calls of the function (a filter, an ANALYZE) only bump
 * counters for nothing: hints err on the side of probing.
 *
 * Counters are global (all queues, all databases): a busy priority on one
 * queue makes the others probe it, as they did without hints.  Without
 * shared_preload_libraries there are no counters and every read probes.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "pgmq.h"

typedef struct PrioCounter
{
	pg_atomic_uint64 n;
	char		pad[PG_CACHE_LINE_SIZE - sizeof(pg_atomic_uint64)];
} PrioCounter;

/* NULL: not preloaded (no hints) */
static PrioCounter *counters = NULL;

/* priorities (bit p) whose counter this transaction bumped */
static uint16 pending = 0;

static void
hint_xact_cb(XactEvent event, void *arg)
{
	int			p;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (pending != 0 && counters != NULL)
				for (p = 0; p < PGMQ_PRIORITY_LEVELS; p++)
					if (pending & (1 << p))
						pg_atomic_fetch_add_u64(&counters[p].n, 1);
			pending = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			pending = 0;
			break;
		default:
			break;
	}
}

/* pgmq_shmem_request (pgmq.c) */
void
pgmq_prio_hint_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(PrioCounter) * PGMQ_PRIORITY_LEVELS));
}

/* pgmq_shmem_startup (pgmq.c), AddinShmemInitLock held */
void
pgmq_prio_hint_shmem_startup(void)
{
	bool		found;
	PrioCounter *c;
	int			p;

	c = pgmq_shmem_struct("pgmq priority insertion counters",
						  sizeof(PrioCounter) * PGMQ_PRIORITY_LEVELS, &found);
	if (!found)
		for (p = 0; p < PGMQ_PRIORITY_LEVELS; p++)
			pg_atomic_init_u64(&c[p].n, 0);
	counters = c;
}

/* Called once from _PG_init. */
void
pgmq_prio_hint_init(void)
{
	if (process_shared_preload_libraries_in_progress)
		RegisterXactCallback(hint_xact_cb, NULL);
}

/* An entry of priority p (0-9) may be about to enter a priority index. */
void
pgmq_prio_note_entry(int p)
{
	if (counters == NULL)
		return;
	pg_atomic_fetch_add_u64(&counters[p].n, 1);
	pending |= (uint16) (1 << p);
}

/*
 * The counter of priority p, read before a probe whose answer becomes a
 * hint (the probe's buffer locks order the read before the descent).
 */
uint64
pgmq_prio_epoch(int p)
{
	return counters ? pg_atomic_read_u64(&counters[p].n) : 0;
}

/* Does st's hint still prove that priority p has no visible message at now? */
bool
pgmq_prio_hint_holds(const PgmqQueueState *st, int p, TimestampTz now)
{
	return counters != NULL && now < st->prio_hint_until[p] &&
		pg_atomic_read_u64(&counters[p].n) == st->prio_hint_epoch[p];
}

/*
 * Remember that a probe (after reading counter value epoch) found no entry
 * of priority p before until.
 */
void
pgmq_prio_hint_set(PgmqQueueState *st, int p, uint64 epoch, TimestampTz until)
{
	if (counters == NULL)
		return;
	st->prio_hint_until[p] = until;
	st->prio_hint_epoch[p] = epoch;
}
