/*
 * pgmq.h
 *	  Shared declarations of the pgmq extension: queue resolution, the
 *	  per-backend plan cache, SRF output helpers and argument checks.
 *
 * Data flows one way through every SQL entry point:
 *	  argument checks -> pgmq_open_queue() (name check, lock, cache entry)
 *	  -> pgmq_plan() (kept SPI plan) -> SPI -> rows copied into the caller's
 *	  tuplestore or into a scalar Datum before SPI_finish().
 */
#ifndef PGMQ_H
#define PGMQ_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
#include "storage/lockdefs.h"

#include "name_rules.h"		/* PGMQ_MAX_NAME_LEN */

/*
 * How to build one kept plan: SQL text with %1$s = pgmq."q_<name>",
 * %2$s = pgmq."a_<name>" and %3$s = pgmq."d_<name>" (dedup.c).  Each module defines its specs as static consts;
 * the plan cache keys a queue's plans by the spec's address.  Every name in
 * the text is schema-qualified (operators as OPERATOR(pg_catalog.x)), so no
 * plan depends on the caller's search_path.
 */
typedef struct PgmqPlanSpec
{
	const char *sql;
	int			nargs;
	Oid			argtypes[9];
} PgmqPlanSpec;

/*
 * Storage settings of every q_ table: room on each page for the updates
 * reads make, and autovacuum that keeps up with a table whose rows all die
 * young (see README, "Storage settings").
 */
#define PGMQ_QUEUE_STORAGE \
	"fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, " \
	"autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05"

/*
 * A spec whose SQL starts with PGMQ_FIXED_PLAN gets one generic plan, never
 * re-planned per call, planned with index scans and nested loops only (no
 * seq scan, bitmap scan, sort, hash or merge join, JIT or parallel workers):
 * for statements that touch a handful of rows by key, whatever the table's
 * size or statistics were when the plan was made (plan_cache.c).
 */
#define PGMQ_FIXED_PLAN "/* pgmq fixed plan */ "

/* The columns of pgmq.message_record, in its order, as every q_/a_ table has them. */
#define PGMQ_MESSAGE_COLUMNS "msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers"
/* The same, qualified by the alias m (UPDATE ... FROM ... RETURNING). */
#define PGMQ_M_MESSAGE_COLUMNS \
	"m.msg_id, m.read_ct, m.enqueued_at, m.last_read_at, m.vt, m.message, m.headers"

/* Most queues one read_multi call may read (and wait on). */
#define PGMQ_MAX_MULTI_QUEUES 32

/* Message priorities 0-9 (priority.c). */
#define PGMQ_PRIORITY_LEVELS 10

/*
 * SQL: the priority of a row of a prioritised queue (alias t, with its dot,
 * or ""), exactly as q_<name>_prio_idx's first column is written, so that
 * statements can use the index (priority.c).
 */
#define PGMQ_PRIO(t) "pgmq._message_priority(" t "headers)"

/*
 * SQL: the FIFO group key of a row (alias t, with its dot, or ""), exactly as
 * q_<name>_fifo_idx's first column is written (fifo_index.c).
 */
#define PGMQ_GROUP(t) \
	"COALESCE(" t "headers OPERATOR(pg_catalog.->>) 'x-pgmq-group', '')"

/*
 * Most distinct specs one queue can have plans for (the modules define about
 * 60 queue specs in all; a queue uses a subset, and feature changes such as
 * set_retention or enable_priorities clear its plans).
 */
#define PGMQ_MAX_PLANS 64

struct PgmqCacheEntry;

/*
 * Facts about one queue that a read path needs on every call, cached with the
 * queue's kept plans and cleared with them (by any relcache invalidation of
 * the queue table).  Each module fills its own fields on first use.
 */
typedef struct PgmqQueueState
{
	bool		fifo_known;		/* has_fifo_index below is filled in */
	bool		has_fifo_index; /* q_<name>_fifo_idx exists (fifo_index.c) */
	bool		dlq_known;		/* the dead-letter policy below is filled in */
	int32		dlq_max_read_ct;	/* 0: no policy (dead_letter.c) */
	char		dlq_name[NAMEDATALEN];
	bool		dedup_known;	/* dedup_window below is filled in */
	int32		dedup_window;	/* seconds; 0: no deduplication (dedup.c) */
	Oid			dedup_seq;		/* q_<name>'s msg_id sequence, when dedup_window */
	Oid			dedup_relid;	/* pgmq.d_<name>, when dedup_window */
	uint32		dedup_clean_block;	/* where dedup.c's next clean-up starts */
	bool		retention_known;	/* the two retentions below are filled in */
	int64		message_retention_us;	/* 0: keep forever (retention.c) */
	int64		archive_retention_us;	/* 0: keep forever */
	uint32		archive_retention_block;	/* where the next archive step starts */
	bool		prio_known;		/* has_prio_index below is filled in */
	bool		has_prio_index; /* q_<name>_prio_idx exists (priority.c) */
	Oid			prio_index;		/* its OID, when has_prio_index */
	int8		prio_last;		/* priority of this backend's last delivery + 1; 0: none */
	uint8		prio_above_skip;	/* reads left that skip priority.c's probe_above */
	/* per priority: no visible message before until while the counter is epoch (priority_hint.c) */
	TimestampTz prio_hint_until[PGMQ_PRIORITY_LEVELS];
	uint64		prio_hint_epoch[PGMQ_PRIORITY_LEVELS];
	bool		horizon_known;	/* horizon_index is filled in (read_scan.c) */
	Oid			horizon_index;	/* btree index led by vt, or InvalidOid */
	Oid			horizon_user;	/* role horizon_allowed was checked for */
	bool		horizon_allowed;	/* it may scan the table (read_scan.c) */
	uint8		horizon_skip;	/* reads left that skip read_scan.c's scan */
	TimestampTz horizon_left;	/* the start as this backend's last scan left it */
} PgmqQueueState;

/* A queue resolved for one call: validated name, locked table, cache entry. */
typedef struct PgmqQueue
{
	char		name[NAMEDATALEN];	/* lower-cased, validated */
	Oid			qrelid;			/* pgmq.q_<name> */
	struct PgmqCacheEntry *entry;
} PgmqQueue;

/*
 * SQL: the name pgmq.meta keeps (the case of the create call) for the queue
 * whose lower-cased name is the SQL expression p; NULL when there is none.
 * The expression is the one unique index pgmq.meta_queue_name_lower_key is
 * built on, so the lookup is one index probe (queue_name.c).
 */
#define PGMQ_META_NAME(p) \
	"(SELECT pgmq_m.queue_name FROM pgmq.meta pgmq_m WHERE" \
	" pg_catalog.lower(pgmq_m.queue_name::pg_catalog.text COLLATE pg_catalog.\"C\")" \
	" OPERATOR(pg_catalog.=) " p ")"

/* queue_name.c */
extern void pgmq_check_name(const char *name, char *out);
extern char *pgmq_name_arg(FunctionCallInfo fcinfo, int argno, char *out);
extern char *pgmq_name_arg_as_given(FunctionCallInfo fcinfo, int argno, char *out,
									char *as_given);
extern void pgmq_open_queue_checked(FunctionCallInfo fcinfo, int argno, LOCKMODE mode,
									PgmqQueue *q);
extern char *pgmq_table_name(const char *prefix, const char *name);
extern char *pgmq_qualified_table(const char *prefix, const char *name);
extern Oid	pgmq_namespace_oid(bool missing_ok);
extern Oid	pgmq_queue_index_oid(const char *name, const char *suffix, Oid relid);
extern Oid	pgmq_table_oid(const char *prefix, const char *name);

/* queue_iter.c: names read back from tables, and the one loop over queues */
typedef void (*PgmqQueueVisit) (PgmqQueue *q, void *arg);
extern bool pgmq_name_from_table(const char *raw, const char *source, char *out);
extern void pgmq_foreach_queue(LOCKMODE mode, PgmqQueueVisit visit, void *arg);

/* plan_cache.c */
extern void pgmq_plan_cache_init(void);
extern void pgmq_open_queue(FunctionCallInfo fcinfo, int argno, LOCKMODE mode,
							PgmqQueue *q);
extern bool pgmq_open_named(PgmqQueue *q, LOCKMODE mode, bool missing_ok);
extern SPIPlanPtr pgmq_plan(PgmqQueue *q, const PgmqPlanSpec *spec);
/* kept plan of a statement that names no queue (SQL used as is) */
extern SPIPlanPtr pgmq_global_plan(const PgmqPlanSpec *spec);
extern void pgmq_plan_cache_forget(const char *name);
extern PgmqQueueState *pgmq_queue_state(PgmqQueue *q);

/* args.c: argument checks */
extern void pgmq_require_arg(FunctionCallInfo fcinfo, int argno, const char *what);
extern int32 pgmq_positive_int_arg(FunctionCallInfo fcinfo, int argno, const char *what);
extern int32 pgmq_nonneg_int_arg(FunctionCallInfo fcinfo, int argno, const char *what);
extern Datum pgmq_id_array_arg(FunctionCallInfo fcinfo, int argno, const char *what);
extern Datum pgmq_seconds_from_now(int32 seconds);

/* spi_util.c */
extern Datum pgmq_int8_array(const int64 *v, int n);
extern void pgmq_connect(void);
extern void pgmq_finish(void);
extern uint64 pgmq_run(PgmqQueue *q, const PgmqPlanSpec *spec,
					   Datum *values, const char *nulls);
extern uint64 pgmq_run_into(FunctionCallInfo fcinfo, PgmqQueue *q,
							const PgmqPlanSpec *spec, Datum *values,
							const char *nulls);
extern void pgmq_init_srf(FunctionCallInfo fcinfo);
/* copies SPI_tuptable out, ordered by a trailing extra bigint column if any */
extern void pgmq_emit_rows(FunctionCallInfo fcinfo);
extern void pgmq_run_sql(const char *sql, int expected, int nargs,
						 Oid *argtypes, Datum *values, const char *nulls);
extern void pgmq_acquire_name_lock(const char *name);
extern Oid	pgmq_extension_table_owner(const char *relname);

/* partition.c: drop_queue's clean-up of pg_partman configuration */
extern void pgmq_partman_forget(const char *name);

/* send.c: the send path, shared with send_topic / send_batch_topic */
typedef enum PgmqDelayKind
{
	PGMQ_DELAY_NONE,			/* visible at once */
	PGMQ_DELAY_SECONDS,			/* integer seconds from now */
	PGMQ_DELAY_AT				/* absolute timestamptz */
} PgmqDelayKind;

typedef struct PgmqSendArgs
{
	bool		batch;			/* msg and headers are jsonb[] */
	Datum		msg;			/* jsonb, or jsonb[] when batch */
	Datum		headers;		/* jsonb or jsonb[]; unused when headers_null */
	bool		headers_null;
	Datum		vt;				/* timestamptz the messages become visible */
} PgmqSendArgs;

extern void pgmq_send_message_args(FunctionCallInfo fcinfo, bool batch,
								   int headers_arg, PgmqSendArgs *a);
extern Datum pgmq_send_visible_at(FunctionCallInfo fcinfo, PgmqDelayKind kind,
								  int argno);
extern uint64 pgmq_send_to_queue(PgmqQueue *q, const PgmqSendArgs *a);

/* dedup.c: sends carrying x-pgmq-dedup-id to a queue with a window */
extern bool pgmq_dedup_applies(PgmqQueue *q, const PgmqSendArgs *a);
extern int64 *pgmq_dedup_send(PgmqQueue *q, const PgmqSendArgs *a, uint64 *n);
extern void pgmq_dedup_send_into(FunctionCallInfo fcinfo, PgmqQueue *q,
								 const PgmqSendArgs *a);

/* retention.c: expiry of old messages and archive rows */
extern bool pgmq_retention_applies(PgmqQueue *q);
extern bool pgmq_retention_cutoff(PgmqQueue *q, TimestampTz now, TimestampTz *oldest);
extern uint64 pgmq_retention_read(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty,
								  int32 vt, Datum conditional);
extern uint64 pgmq_retention_pop(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty);
extern int64 pgmq_retention_expired(PgmqQueue *q);
extern uint64 pgmq_retention_round(bool *any);
extern void pgmq_retention_note_send(PgmqQueue *q);

/* priority.c: prioritised queues */
extern bool pgmq_priority_applies(PgmqQueue *q);
/* a stored message's priority from its headers, not counted as an index entry */
extern int32 pgmq_headers_priority(Datum headers, bool isnull);
extern void pgmq_priority_check_send(PgmqQueue *q, const PgmqSendArgs *a);
extern uint64 pgmq_priority_read(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty,
								 int32 vt, Datum conditional);
extern uint64 pgmq_priority_pop(FunctionCallInfo fcinfo, PgmqQueue *q, int32 qty);

/* priority_hint.c: when a read may skip probing a priority */
extern void pgmq_prio_hint_init(void);
extern void pgmq_prio_hint_shmem_request(void);
extern void pgmq_prio_hint_shmem_startup(void);
extern void pgmq_prio_note_entry(int p);
extern uint64 pgmq_prio_epoch(int p);
extern bool pgmq_prio_hint_holds(const PgmqQueueState *st, int p, TimestampTz now);
extern void pgmq_prio_hint_set(PgmqQueueState *st, int p, uint64 epoch, TimestampTz until);

/* consume.c: shared with later read paths */
extern const PgmqPlanSpec pgmq_read_spec;

/* fifo.c: one grouped read (and its polling loop), shared with fifo_head.c */
typedef enum PgmqFifoMode
{
	PGMQ_FIFO_GROUPED,			/* read_grouped: fill from the oldest group */
	PGMQ_FIFO_RR,				/* read_grouped_rr: round robin over groups */
	PGMQ_FIFO_HEAD				/* read_grouped_head: the head of each group */
} PgmqFifoMode;

extern Datum pgmq_fifo_read(FunctionCallInfo fcinfo, bool poll, PgmqFifoMode mode);

/* fifo_index.c */
extern bool pgmq_fifo_has_index(PgmqQueue *q);

/* dead_letter.c: a queue's dead-letter policy, opened for one read */
typedef struct PgmqDeadLetter
{
	PgmqQueue	dlq;			/* the dead-letter queue, locked */
	int32		max_read_ct;	/* messages read this often are moved */
} PgmqDeadLetter;

extern bool pgmq_dead_letter_open(PgmqQueue *q, PgmqDeadLetter *dl);
extern uint64 pgmq_dead_letter_read(FunctionCallInfo fcinfo, PgmqQueue *q,
									PgmqDeadLetter *dl, int32 qty, int32 vt,
									Datum conditional, int priority);
extern uint64 pgmq_dead_letter_ids(PgmqQueue *q, PgmqDeadLetter *dl,
								   const int64 *ids, int n, TimestampTz now);
/* priority.c: a read of a prioritised queue with a dead-letter policy */
extern uint64 pgmq_priority_dead_letter_read(FunctionCallInfo fcinfo, PgmqQueue *q,
											 PgmqDeadLetter *dl, int32 qty, int32 vt,
											 Datum conditional);

/*
 * pgmq.c: shared memory.  The modules that use it (wakeup.c, queue_vacuum.c,
 * horizon.c, stats.c) give a *_shmem_request and a *_shmem_startup function;
 * pgmq.c's two hooks call them, the startup ones under AddinShmemInitLock.
 */
extern void *pgmq_shmem_struct(const char *name, Size size, bool *found);

/* queue_vacuum.c */
extern void pgmq_vacuum_init(void);
extern void pgmq_vacuum_shmem_request(void);
extern void pgmq_vacuum_shmem_startup(void);
extern void pgmq_vacuum_note_consumed(uint64 rows);
extern void pgmq_vacuum_want_worker(bool now);

/* wakeup.c: waiters registry and commit-time wakeups (when preloaded) */
extern void pgmq_wakeup_init(void);
extern void pgmq_wakeup_shmem_request(void);
extern void pgmq_wakeup_shmem_startup(void);
extern void pgmq_wakeup_note_send(PgmqQueue *q);

/* wait.c: how *_with_poll reads wait between two attempts */
extern void pgmq_wait_for_messages(PgmqQueue *q, TimestampTz deadline,
								   int poll_interval_ms);
extern void pgmq_wait_for_messages_multi(PgmqQueue *qs, int n, TimestampTz deadline,
										 int poll_interval_ms);

#endif							/* PGMQ_H */
