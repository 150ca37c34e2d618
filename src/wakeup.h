/*
 * wakeup.h
 *	  Internal interface between wakeup.c (the shared registry of waiting
 *	  backends and the commit-time wakeups) and wait.c (how a consumer
 *	  waits).  Nothing here is used outside those two files.
 */
#ifndef PGMQ_WAKEUP_H
#define PGMQ_WAKEUP_H

#include "pgmq.h"

/* What pgmq_waiter_register() could do for the calling backend. */
typedef enum PgmqWaitMode
{
	PGMQ_WAIT_POLL,				/* no registry (not preloaded) or it is full */
	PGMQ_WAIT_NEW,				/* registered just now: read again first */
	PGMQ_WAIT_READY				/* registered since before the last read */
} PgmqWaitMode;

extern PgmqWaitMode pgmq_waiter_register(PgmqQueue *q);
extern PgmqWaitMode pgmq_waiter_register_multi(PgmqQueue *qs, int n);
extern uint32 pgmq_waiter_wakeups(void);

#endif							/* PGMQ_WAKEUP_H */
