/*
 * wait.c
 *	  How a consumer waits between two read attempts:
 *	  pgmq_wait_for_messages(), called by read_with_poll and the
 *	  read_grouped*_with_poll forms after a read found nothing (connected to
 *	  SPI, the queue open and locked), and pgmq_wait_for_messages_multi(),
 *	  the same for read_multi_with_poll on several queues at once.  The
 *	  caller reads again after every return, while its deadline has not
 *	  passed.
 *
 * With pgmq preloaded (wakeup.c has its registry), a waiter
 *	1. on its first wait on a queue, registers as a waiter on it and returns
 *	   at once, so that the caller reads again: the read that makes it sleep
 *	   always comes after the registration, and a commit after that read
 *	   sets its latch (wakeup.c explains why none is lost);
 *	2. from then on sleeps on its latch until the first of: the commit of a
 *	   transaction that sent to the queue (latch), the deadline, and the vt
 *	   of the first entry of the queue's (vt, msg_id) index, i.e. when the
 *	   next delayed or in-flight message becomes visible.  That entry can
 *	   also be a message that is visible already but that the read did not
 *	   take: locked by another transaction's read, or excluded by a
 *	   conditional or a FIFO group rule.  Nobody will signal when that
 *	   changes, so the waiter reads again at once (the message may just
 *	   have become visible), then every poll_interval_ms while it lasts.
 * Without preloading, or when the registry is full, it sleeps
 * poll_interval_ms (never past the deadline) between reads, as the PL/pgSQL
 * pgmq does.
 *
 * Every sleep is a WaitLatch, which query cancel, statement_timeout,
 * termination and postmaster death end at once; CHECK_FOR_INTERRUPTS()
 * follows each one.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "stats.h"
#include "wakeup.h"

/* When the first message by (vt, msg_id) becomes (or became) visible. */
static const PgmqPlanSpec next_vt_spec = {
	"SELECT vt FROM %1$s ORDER BY vt LIMIT 1", 0, {InvalidOid}
};

/* Waits in a row that found a message visible that the read did not take. */
static int	visible_streak = 0;

/* pgmq_waiter_wakeups() at the end of the previous wait. */
static uint32 seen_wakeups = 0;

/* Sleep on our latch until wake_at (or a latch set, or an interrupt). */
static void
sleep_until(TimestampTz wake_at)
{
	long		ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), wake_at);

	if (ms > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	CHECK_FOR_INTERRUPTS();
}

/* The vt of q's first message in (vt, msg_id) order; false if q is empty. */
static bool
first_vt(PgmqQueue *q, TimestampTz *vt)
{
	bool		isnull = true;

	if (pgmq_run(q, &next_vt_spec, NULL, NULL) > 0)
		*vt = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1,
												&isnull));
	SPI_freetuptable(SPI_tuptable);
	return !isnull;
}

/*
 * What a registration in the waiters registry (mode) leaves to do: false
 * when this attempt's wait is already over (no registry: one poll interval
 * slept; newly registered: read again at once, so that no commit between the
 * last read and the registration is missed), true when the caller sleeps
 * until a wakeup, a message's vt or the deadline.
 */
static bool
registered(PgmqWaitMode mode, TimestampTz deadline, int poll_interval_ms)
{
	switch (mode)
	{
		case PGMQ_WAIT_POLL:
			sleep_until(Min(deadline,
							TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														poll_interval_ms)));
			return false;
		case PGMQ_WAIT_NEW:
			visible_streak = 0;
			seen_wakeups = pgmq_waiter_wakeups();
			CHECK_FOR_INTERRUPTS();
			return false;
		case PGMQ_WAIT_READY:
			break;
	}
	return true;
}

/* Sleep until the next read of q is worth making; see the file header. */
void
pgmq_wait_for_messages(PgmqQueue *q, TimestampTz deadline, int poll_interval_ms)
{
	TimestampTz now;
	TimestampTz vt = 0;
	TimestampTz wake_at;
	uint32		wakeups;

	if (!registered(pgmq_waiter_register(q), deadline, poll_interval_ms))
		return;

	now = GetCurrentTimestamp();
	wake_at = deadline;
	if (!first_vt(q, &vt))
		visible_streak = 0;
	else if (vt > now)
	{
		visible_streak = 0;
		wake_at = Min(wake_at, vt);
	}
	else if (visible_streak++ == 0)
		wake_at = now;
	else
		wake_at = Min(wake_at, TimestampTzPlusMilliseconds(now, poll_interval_ms));

	sleep_until(wake_at);

	wakeups = pgmq_waiter_wakeups();
	if (wakeups != seen_wakeups)
	{
		ereport(DEBUG1,
				(errmsg_internal("pgmq: woken by %u commit(s) on queue \"%s\"",
								 wakeups - seen_wakeups, q->name)));
		seen_wakeups = wakeups;
		pgmq_stats_count(q, PGMQ_STAT_POLL_WAKEUP, 1);
	}
}

/*
 * The same for a wait on the n queues of qs at once (read_multi_with_poll):
 * one registration covers all of them, and the sleep also ends when the
 * first hidden message of any of them becomes visible.
 */
void
pgmq_wait_for_messages_multi(PgmqQueue *qs, int n, TimestampTz deadline,
							 int poll_interval_ms)
{
	TimestampTz now;
	TimestampTz wake_at;
	bool		any_visible = false;
	int			i;

	if (!registered(pgmq_waiter_register_multi(qs, n), deadline, poll_interval_ms))
		return;

	now = GetCurrentTimestamp();
	wake_at = deadline;
	for (i = 0; i < n; i++)
	{
		TimestampTz vt = 0;

		if (!first_vt(&qs[i], &vt))
			continue;
		if (vt > now)
			wake_at = Min(wake_at, vt);
		else
			any_visible = true;
	}
	if (!any_visible)
		visible_streak = 0;
	else if (visible_streak++ == 0)
		wake_at = now;
	else
		wake_at = Min(wake_at, TimestampTzPlusMilliseconds(now, poll_interval_ms));

	sleep_until(wake_at);
	seen_wakeups = pgmq_waiter_wakeups();
}
