/*
 * pgmq.c
 *	  Module entry: PG_MODULE_MAGIC and _PG_init.
 *
 * _PG_init stays short: it reserves the "pgmq" settings prefix and calls one
 * init function per subsystem.  Everything that needs shared memory lives in
 * wakeup.c, queue_vacuum.c and horizon.c, and works only when the library
 * is in shared_preload_libraries.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "horizon.h"
#include "pgmq.h"
#include "stats.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	pgmq_plan_cache_init();
	pgmq_wakeup_init();
	pgmq_vacuum_init();
	pgmq_horizon_init();
	pgmq_stats_init();
	MarkGUCPrefixReserved("pgmq");
}
