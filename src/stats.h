/*
 * stats.h
 *	  The counting calls of the message paths into stats.c (per-queue
 *	  cumulative statistics in shared memory, when pgmq is preloaded).  Each
 *	  is one line at the place where the event happened; all of them are
 *	  no-ops without preloading or with pgmq.track_stats off.
 */
#ifndef PGMQ_STATS_H
#define PGMQ_STATS_H

#include "fmgr.h"

#include "pgmq.h"

/* What happened to a queue, for pgmq_stats_count(). */
typedef enum PgmqStatEvent
{
	PGMQ_STAT_SEND,				/* a send call that stored n messages */
	PGMQ_STAT_ENQUEUED,			/* n messages stored by pgmq itself (dead-letter
								 * move, redrive): messages_sent, no call */
	PGMQ_STAT_DELETE,			/* n messages deleted */
	PGMQ_STAT_ARCHIVE,			/* n messages archived */
	PGMQ_STAT_POP,				/* n messages popped */
	PGMQ_STAT_DEAD_LETTER,		/* n messages moved out to a dead-letter queue */
	PGMQ_STAT_REMOVED,			/* n messages gone otherwise (purge, redrive
								 * out): only the length estimate changes */
	PGMQ_STAT_POLL_WAKEUP		/* a waiting consumer woken by a commit */
} PgmqStatEvent;

extern void pgmq_stats_init(void);
extern void pgmq_stats_shmem_request(void);
extern void pgmq_stats_shmem_startup(void);
extern void pgmq_stats_count(PgmqQueue *q, PgmqStatEvent ev, uint64 n);
/* a send call that stored n messages; returns n (wraps the call's INSERT) */
extern uint64 pgmq_stats_sent(PgmqQueue *q, uint64 n);
/* n messages of q moved to its dead-letter queue dlq */
extern void pgmq_stats_dead_letter(PgmqQueue *q, PgmqQueue *dlq, uint64 n);
/* a read call: counts the rows it put into fcinfo's tuplestore */
extern void pgmq_stats_read(PgmqQueue *q, FunctionCallInfo fcinfo);
/* ev for as many messages as fcinfo's tuplestore holds (pop) */
extern void pgmq_stats_emitted(PgmqQueue *q, PgmqStatEvent ev, FunctionCallInfo fcinfo);
/* drop_queue: the queue's entry goes when the transaction commits */
extern void pgmq_stats_forget(const char *name);

#endif							/* PGMQ_STATS_H */
