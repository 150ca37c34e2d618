/*
 * fifo_head.c
 *	  pgmq.read_grouped_head and pgmq.read_grouped_head_with_poll (pgmq API
 *	  1.11.1 and 1.12.0): at most one message per FIFO group.
 *
 * A call returns, oldest group first, the head (lowest msg_id) of up to qty
 * groups whose head is visible and not held by another reader, and hides each
 * for vt seconds.  It is read_grouped_rr stopped after its first round, so it
 * runs fifo.c's protocol unchanged: the heads are row-locked with
 * FOR UPDATE SKIP LOCKED after re-checking their visibility, which is what
 * keeps two concurrent callers off the same group (see fifo.c's header).  A
 * group whose head is in flight gives nothing until that head is deleted,
 * archived or visible again.  With a dead-letter policy, a head read
 * max_read_ct times is moved to the dead-letter queue and the next message
 * of its group is the head.  With a message retention an expired message is
 * as if removed (the group's first live message is its head), and on a
 * prioritised queue the heads come highest priority first (fifo.c).
 *
 * The polling form sleeps between attempts in pgmq_wait_for_messages()
 * (wait.c), so with pgmq preloaded a commit that sends to the queue wakes it
 * at once.
 */
#include "postgres.h"

#include "fmgr.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_read_grouped_head);
PG_FUNCTION_INFO_V1(pgmq_read_grouped_head_with_poll);

/* pgmq.read_grouped_head(queue_name text, vt integer, qty integer) */
Datum
pgmq_read_grouped_head(PG_FUNCTION_ARGS)
{
	return pgmq_fifo_read(fcinfo, false, PGMQ_FIFO_HEAD);
}

/*
 * pgmq.read_grouped_head_with_poll(queue_name text, vt integer, qty integer,
 *		max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
 */
Datum
pgmq_read_grouped_head_with_poll(PG_FUNCTION_ARGS)
{
	return pgmq_fifo_read(fcinfo, true, PGMQ_FIFO_HEAD);
}
