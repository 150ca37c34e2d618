/*
 * horizon.h
 *	  The per-queue read start position kept in shared memory (horizon.c)
 *	  and the scan that moves it forward (read_scan.c).  docs/horizon.md has
 *	  the design and its invariants.
 */
#ifndef PGMQ_HORIZON_H
#define PGMQ_HORIZON_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "pgmq.h"

/* A claim on a queue's slot for one forward scan (horizon.c). */
typedef struct HorizonClaim
{
	int			slot;
	uint32		gen;			/* the slot's generation when claimed */
	TimestampTz start;			/* the start position when claimed */
} HorizonClaim;

/* horizon.c */
extern void pgmq_horizon_init(void);
extern void pgmq_horizon_shmem_request(void);
extern void pgmq_horizon_shmem_startup(void);
extern bool pgmq_horizon_enabled(void);
extern void pgmq_horizon_expect_write(Oid relid, TimestampTz lowest_vt);
extern void pgmq_horizon_expect_done(void);
extern TimestampTz pgmq_horizon_current(Oid relid);
extern bool pgmq_horizon_claim(Oid relid, HorizonClaim *claim);
extern void pgmq_horizon_release(const HorizonClaim *claim, bool advance,
								 TimestampTz new_start);

/* read_scan.c */
extern bool pgmq_horizon_advance(PgmqQueue *q, TimestampTz now);

#endif							/* PGMQ_HORIZON_H */
