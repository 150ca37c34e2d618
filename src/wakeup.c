/*
 * wakeup.c
 *	  How read_with_poll waits for messages.
 *
 * This version polls: a waiting backend sleeps on its own latch for
 * poll_interval_ms (or until the deadline), then reads again.  The latch
 * wait honours query cancel, statement_timeout and postmaster death.
 * pgmq_wakeup_note_send() is where a send reports the queue it wrote to.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "pgmq.h"

/* Called once from _PG_init. */
void
pgmq_wakeup_init(void)
{
}

/* A send to q happened in this transaction. */
void
pgmq_wakeup_note_send(PgmqQueue *q)
{
}

/* Sleep until the next poll: poll_interval_ms, but not past deadline. */
void
pgmq_wait_for_messages(PgmqQueue *q, TimestampTz deadline, int poll_interval_ms)
{
	long		remaining_ms;

	remaining_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
	if (remaining_ms > poll_interval_ms)
		remaining_ms = poll_interval_ms;
	if (remaining_ms > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 remaining_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	CHECK_FOR_INTERRUPTS();
}
