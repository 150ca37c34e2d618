/*
 * pgmq.c
 *	  Module entry: PG_MODULE_MAGIC and _PG_init.
 *
 * _PG_init stays short: it reserves the "pgmq" settings prefix and calls one
 * init function per subsystem.  Everything that needs shared memory lives in
 * wakeup.c, queue_vacuum.c, horizon.c and stats.c, and works only when the
 * library is in shared_preload_libraries; then this file's one request hook
 * and one startup hook call each of those modules' request and startup
 * functions, so no module chains the shared memory hooks itself.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "horizon.h"
#include "pgmq.h"
#include "stats.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* shmem_request_hook: every module reserves its space and locks. */
static void
pgmq_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	pgmq_wakeup_shmem_request();
	pgmq_vacuum_shmem_request();
	pgmq_horizon_shmem_request();
	pgmq_stats_shmem_request();
	pgmq_prio_hint_shmem_request();
}

/* shmem_startup_hook: every module creates (or attaches to) its structures. */
static void
pgmq_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgmq_wakeup_shmem_startup();
	pgmq_vacuum_shmem_startup();
	pgmq_horizon_shmem_startup();
	pgmq_stats_shmem_startup();
	pgmq_prio_hint_shmem_startup();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * ShmemInitStruct, zeroed when created; caller holds AddinShmemInitLock and
 * sets up what zero bytes do not (spinlocks) when *found is false.
 */
void *
pgmq_shmem_struct(const char *name, Size size, bool *found)
{
	void	   *ptr = ShmemInitStruct(name, size, found);

	if (!*found)
		memset(ptr, 0, size);
	return ptr;
}

void
_PG_init(void)
{
	pgmq_plan_cache_init();
	pgmq_wakeup_init();
	pgmq_vacuum_init();
	pgmq_horizon_init();
	pgmq_stats_init();
	pgmq_prio_hint_init();
	MarkGUCPrefixReserved("pgmq");
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pgmq_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pgmq_shmem_startup;
}
