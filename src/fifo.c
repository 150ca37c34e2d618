/*
 * fifo.c
 *	  FIFO message groups: pgmq.read_grouped, pgmq.read_grouped_rr and their
 *	  _with_poll forms (the fifo index they use: fifo_index.c).
 *
 * The group of a message is COALESCE(headers->>'x-pgmq-group', ''): a message
 * without the header (or with an empty or JSON null one) is in the default
 * group.  The head of a group is its message with the lowest msg_id, whatever
 * its state.  A group is eligible when its head is visible (vt <= now) and
 * not row-locked by another transaction.
 *
 * Protocol (the invariant that makes grouped reads race-free):
 *	  a grouped reader takes messages of a group only while it holds the row
 *	  lock of the group's head, taken with FOR UPDATE SKIP LOCKED after
 *	  checking, on the latest row version, that the head is still visible.
 *
 * One read attempt is four short statements, each with a fresh snapshot in
 * READ COMMITTED:
 *	  1. heads:  the head of every group whose head is visible, oldest first
 *				 (a skip scan over q_<name>_fifo_idx, one probe per group; a
 *				 single sorted pass over the table when there is no index);
 *	  2. lock:	 lock heads in that order, SKIP LOCKED (read_grouped: one at a
 *				 time, as long as the batch needs more; read_grouped_rr: up to
 *				 qty at once, as each locked group gives the batch at least
 *				 one message).  The lock re-checks vt on the latest version,
 *				 so a head another reader took, or deleted, since step 1 fails;
 *	  3. walk:	 read each locked group from its head in msg_id order; the
 *				 deliverable messages are the run of visible ones that starts
 *				 at the head (the first hidden one ends the group);
 *	  4. take:	 update the chosen messages (vt, read_ct, last_read_at) and
 *				 return them in batch order.
 * Step 3 starts after step 2 committed our head locks, so it sees everything
 * every earlier holder of those groups committed: a previous reader's messages
 * are in flight (hidden) or deleted.  While we hold a head, no other grouped
 * reader takes anything from its group: it fails to lock the head (locked, or
 * hidden once we commit).  A reader whose transaction stays open holds its
 * groups until it ends; a rollback undoes vt and read_ct and frees them.
 *
 * With a dead-letter policy, a walked message that has been read max_read_ct
 * times is a dead letter: it does not end the group's run, is not taken, and
 * is moved to the dead-letter queue (dead_letter.c) in the same call; so a
 * poison message at the head no longer holds back its group.
 *
 * With a message retention (retention.c; issue 16), an expired message
 * (enqueued_at older than the retention at the read's "now") is as if
 * already removed: the walk skips it without ending the group's run, it is
 * neither taken nor moved to the dead-letter queue, and it does not hold
 * back its group even when in flight.  The head lock is unchanged: the lock
 * point is the group's first message, expired or not, lockable when it is
 * visible or expired.  So every grouped reader locks the same row for a
 * group whatever its own "now"; a lock point that a retention step deletes
 * is one nobody holds (the step skips locked rows), and the next message is
 * the lock point from then on.  A group is a candidate when its first live
 * message is visible; groups are served by their first live message.
 *
 * On a prioritised queue (priority.c's q_<name>_prio_idx; issue 16) groups
 * are served by the priority of their first live message, highest first,
 * then as without priorities (by that message's msg_id).  Inside a group
 * msg_id order wins: a priority 9 message behind a priority 0 head waits for
 * it.  read_grouped_rr's rounds and read_grouped_head go over the groups in
 * the same order.  Heads are locked in serving order (lock_heads_pos_spec),
 * which need not be msg_id order.  A queue with neither a retention nor
 * priorities keeps the plans above; the choice is one cached test each.
 *
 * The promise holds among grouped readers.  read or pop on the same queue, or
 * changing messages one has not read (set_vt, delete, archive by id), step
 * outside it: step 4 then skips what such a writer hid or removed.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pg_compat.h"
#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_read_grouped);
PG_FUNCTION_INFO_V1(pgmq_read_grouped_with_poll);
PG_FUNCTION_INFO_V1(pgmq_read_grouped_rr);
PG_FUNCTION_INFO_V1(pgmq_read_grouped_rr_with_poll);

/* The group key of a row; the fifo index expression is exactly this text. */
#define GRP(t) PGMQ_GROUP(t)

/* 1. heads, with the fifo index: one index probe per group ($1 now). */
static const PgmqPlanSpec heads_skip_spec = {
	"WITH RECURSIVE g(grp, msg_id, vt) AS ("
	" (SELECT " GRP("") ", msg_id, vt FROM %1$s ORDER BY " GRP("") ", msg_id LIMIT 1)"
	" UNION ALL"
	" SELECT n.grp, n.msg_id, n.vt FROM g CROSS JOIN LATERAL"
	" (SELECT " GRP("m.") " AS grp, m.msg_id, m.vt FROM %1$s m"
	"  WHERE " GRP("m.") " OPERATOR(pg_catalog.>) g.grp"
	"  ORDER BY " GRP("m.") ", m.msg_id LIMIT 1) n)"
	" SELECT grp, msg_id FROM g WHERE vt OPERATOR(pg_catalog.<=) $1 ORDER BY msg_id",
	1, {TIMESTAMPTZOID}
};

/* 1. heads, without the index: one sorted pass over the table ($1 now). */
static const PgmqPlanSpec heads_scan_spec = {
	"SELECT grp, msg_id FROM (SELECT DISTINCT ON (" GRP("") ") " GRP("") " AS grp, msg_id, vt"
	" FROM %1$s ORDER BY " GRP("") ", msg_id) h"
	" WHERE vt OPERATOR(pg_catalog.<=) $1 ORDER BY msg_id",
	1, {TIMESTAMPTZOID}
};

/*
 * 2. lock up to $3 of the heads $1 above msg_id $4, oldest first, that are
 * still visible at $2 and still the first message of their group.
 */
static const PgmqPlanSpec lock_heads_spec = {
	"SELECT m.msg_id FROM %1$s m"
	" WHERE m.msg_id OPERATOR(pg_catalog.=) ANY ($1)"
	" AND m.msg_id OPERATOR(pg_catalog.>) $4"
	" AND m.vt OPERATOR(pg_catalog.<=) $2"
	" AND NOT EXISTS (SELECT 1 FROM %1$s e"
	"  WHERE " GRP("e.") " OPERATOR(pg_catalog.=) " GRP("m.")
	"  AND e.msg_id OPERATOR(pg_catalog.<) m.msg_id)"
	" ORDER BY m.msg_id LIMIT $3 FOR UPDATE OF m SKIP LOCKED",
	4, {INT8ARRAYOID, TIMESTAMPTZOID, INT4OID, INT8OID}
};

/*
 * 1. and 2. on a queue with a message retention or priorities ("feature"
 * queues; a queue with neither keeps the plans above).  An expired message
 * (enqueued_at before $2, the oldest a read may deliver; -infinity without
 * a retention) is as if already removed: it is never delivered and never
 * holds back its group.  It still is the group's lock point while it is the
 * group's first message, so that every grouped reader locks the same row for
 * a group whatever its own "now" (the head lock of the protocol above).
 * So a group is a candidate when its first message is visible or expired
 * and its first live (unexpired) message is visible.  Candidates come in
 * the order the read serves them: by the first live message's priority
 * (prioritised queues, highest first), then by its msg_id.  The statement
 * returns the group, its lock point, its first live message's msg_id and,
 * on a prioritised queue, that message's headers (P(t) is HDR_SEL, else
 * NO_HDR), from which find_heads computes the priority and orders by it
 * (in C: pgmq._message_priority in SQL would count an index entry for every
 * head, priority_hint.c, and wear out every backend's hints).
 *
 * Heads with the fifo index ($1 now, $2 oldest enqueued_at delivered): the
 * skip scan above; a group whose first message is expired gets one more
 * probe of the index for its first live message (the other branch of the
 * UNION ALL, gated on the first message's enqueued_at, runs for the others).
 */
#define HEADS_FEAT_SKIP(P) \
	"WITH RECURSIVE g(grp, msg_id, vt, enqueued_at, hdr) AS (" \
	" (SELECT " GRP("") ", msg_id, vt, enqueued_at" P("") " FROM %1$s" \
	"  ORDER BY " GRP("") ", msg_id LIMIT 1)" \
	" UNION ALL" \
	" SELECT n.* FROM g CROSS JOIN LATERAL" \
	" (SELECT " GRP("m.") " AS grp, m.msg_id, m.vt, m.enqueued_at" P("m.") " FROM %1$s m" \
	"  WHERE " GRP("m.") " OPERATOR(pg_catalog.>) g.grp" \
	"  ORDER BY " GRP("m.") ", m.msg_id LIMIT 1) n)" \
	" SELECT g.grp, g.msg_id, l.msg_id, l.hdr FROM g CROSS JOIN LATERAL" \
	" (SELECT g.msg_id, g.vt, g.hdr WHERE g.enqueued_at OPERATOR(pg_catalog.>=) $2" \
	"  UNION ALL" \
	"  (SELECT f.msg_id, f.vt" P("f.") " FROM %1$s f" \
	"   WHERE g.enqueued_at OPERATOR(pg_catalog.<) $2" \
	"   AND " GRP("f.") " OPERATOR(pg_catalog.=) g.grp" \
	"   AND f.msg_id OPERATOR(pg_catalog.>) g.msg_id" \
	"   AND f.enqueued_at OPERATOR(pg_catalog.>=) $2" \
	"   ORDER BY " GRP("f.") ", f.msg_id LIMIT 1)) l(msg_id, vt, hdr)" \
	" WHERE (g.vt OPERATOR(pg_catalog.<=) $1 OR g.enqueued_at OPERATOR(pg_catalog.<) $2)" \
	" AND l.vt OPERATOR(pg_catalog.<=) $1" \
	" ORDER BY l.msg_id"

/* Heads without the index: two sorted passes over the table. */
#define HEADS_FEAT_SCAN(P) \
	"SELECT h.grp, h.msg_id, l.msg_id, l.hdr FROM" \
	" (SELECT DISTINCT ON (" GRP("") ") " GRP("") " AS grp, msg_id, vt, enqueued_at" \
	"  FROM %1$s ORDER BY " GRP("") ", msg_id) h" \
	" JOIN (SELECT DISTINCT ON (" GRP("f.") ") " GRP("f.") " AS grp, f.msg_id, f.vt" P("f.") " AS hdr" \
	"  FROM %1$s f WHERE f.enqueued_at OPERATOR(pg_catalog.>=) $2" \
	"  ORDER BY " GRP("f.") ", f.msg_id) l ON l.grp OPERATOR(pg_catalog.=) h.grp" \
	" WHERE (h.vt OPERATOR(pg_catalog.<=) $1 OR h.enqueued_at OPERATOR(pg_catalog.<) $2)" \
	" AND l.vt OPERATOR(pg_catalog.<=) $1" \
	" ORDER BY l.msg_id"

#define HDR_SEL(t) ", " t "headers"
#define NO_HDR(t) ", NULL::pg_catalog.jsonb"

/* retention only: groups by their first live message */
static const PgmqPlanSpec heads_ret_skip_spec = {
	HEADS_FEAT_SKIP(NO_HDR), 2, {TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec heads_ret_scan_spec = {
	HEADS_FEAT_SCAN(NO_HDR), 2, {TIMESTAMPTZOID, TIMESTAMPTZOID}
};

/* prioritised (with or without a retention): with the heads' headers */
static const PgmqPlanSpec heads_prio_skip_spec = {
	HEADS_FEAT_SKIP(HDR_SEL), 2, {TIMESTAMPTZOID, TIMESTAMPTZOID}
};

static const PgmqPlanSpec heads_prio_scan_spec = {
	HEADS_FEAT_SCAN(HDR_SEL), 2, {TIMESTAMPTZOID, TIMESTAMPTZOID}
};

/*
 * 2. on a feature queue: lock up to $3 of the heads $1 after position $4 of
 * that array, in array order (the order the read serves them, which need
 * not be msg_id order), that are still visible at $2 or expired (enqueued
 * before $5), and still the first message of their group.  Returns their
 * positions.
 */
static const PgmqPlanSpec lock_heads_pos_spec = {
	"SELECT c.n FROM pg_catalog.unnest($1) WITH ORDINALITY AS c(id, n)"
	" JOIN %1$s m ON m.msg_id OPERATOR(pg_catalog.=) c.id"
	" WHERE c.n OPERATOR(pg_catalog.>) $4"
	" AND (m.vt OPERATOR(pg_catalog.<=) $2 OR m.enqueued_at OPERATOR(pg_catalog.<) $5)"
	" AND NOT EXISTS (SELECT 1 FROM %1$s e"
	"  WHERE " GRP("e.") " OPERATOR(pg_catalog.=) " GRP("m.")
	"  AND e.msg_id OPERATOR(pg_catalog.<) m.msg_id)"
	" ORDER BY c.n LIMIT $3 FOR UPDATE OF m SKIP LOCKED",
	5, {INT8ARRAYOID, TIMESTAMPTZOID, INT4OID, INT8OID, TIMESTAMPTZOID}
};

/*
 * 3. walk: for the i-th group $1[i], up to $3 messages after msg_id $2[i],
 * in msg_id order.
 */
static const PgmqPlanSpec walk_spec = {
	"SELECT g.i, w.msg_id, w.vt, w.read_ct"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS g(grp, after_id, i)"
	" CROSS JOIN LATERAL (SELECT msg_id, vt, read_ct FROM %1$s"
	"  WHERE " GRP("") " OPERATOR(pg_catalog.=) g.grp"
	"  AND msg_id OPERATOR(pg_catalog.>) g.after_id"
	"  ORDER BY " GRP("") ", msg_id LIMIT $3) w"
	" ORDER BY g.i, w.msg_id",
	3, {TEXTARRAYOID, INT8ARRAYOID, INT4OID}
};

/* 3. walk on a queue with a message retention: also whether each is expired ($4). */
static const PgmqPlanSpec walk_ret_spec = {
	"SELECT g.i, w.msg_id, w.vt, w.read_ct, w.expired"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) WITH ORDINALITY AS g(grp, after_id, i)"
	" CROSS JOIN LATERAL (SELECT msg_id, vt, read_ct,"
	"  enqueued_at OPERATOR(pg_catalog.<) $4 AS expired FROM %1$s"
	"  WHERE " GRP("") " OPERATOR(pg_catalog.=) g.grp"
	"  AND msg_id OPERATOR(pg_catalog.>) g.after_id"
	"  ORDER BY " GRP("") ", msg_id LIMIT $3) w"
	" ORDER BY g.i, w.msg_id",
	4, {TEXTARRAYOID, INT8ARRAYOID, INT4OID, TIMESTAMPTZOID}
};

/*
 * 4. take messages $1 (in that order): hide them until $2, count the read at
 * $3; skip any that is no longer visible or has been read $4 times.  (No
 * retention re-check: the walk chose only unexpired messages at the same
 * "now", and no pgmq function changes a message's enqueued_at.)
 */
static const PgmqPlanSpec take_spec = {
	"WITH u AS (UPDATE %1$s m SET vt = $2,"
	" read_ct = m.read_ct OPERATOR(pg_catalog.+) 1, last_read_at = $3"
	" FROM pg_catalog.unnest($1) WITH ORDINALITY AS p(id, n)"
	" WHERE m.msg_id OPERATOR(pg_catalog.=) p.id"
	" AND m.vt OPERATOR(pg_catalog.<=) $3 AND m.read_ct OPERATOR(pg_catalog.<) $4"
	" RETURNING " PGMQ_M_MESSAGE_COLUMNS ", p.n)"
	" SELECT " PGMQ_MESSAGE_COLUMNS " FROM u ORDER BY n",
	4, {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID}
};

/* One locked group and the messages walked so far from its head. */
typedef struct FifoGroup
{
	char	   *grp;			/* group key */
	int64		head;			/* locked head msg_id */
	int64		last_id;		/* last msg_id walked */
	bool		ended;			/* no more deliverable messages after last_id */
	int			nrows;			/* deliverable messages walked ... */
	int			maxrows;
	int64	   *ids;			/* ... in msg_id order */
	int			taken;			/* how many of them the batch takes */
	int			npoison;		/* walked messages read max_read_ct times ... */
	int			maxpoison;
	int64	   *poison;			/* ... which the read moves to the dead-letter queue */
} FifoGroup;

/* One grouped read attempt. */
typedef struct FifoRead
{
	PgmqQueue  *q;
	TimestampTz now;
	int32		vt;
	int32		qty;
	PgmqDeadLetter *dl;			/* the queue's dead-letter policy, or NULL */
	int32		max_read_ct;	/* messages read this often are dead letters */
	bool		retention;		/* the queue has a message retention ... */
	TimestampTz oldest;			/* ... so older enqueued_at are expired (else -infinity) */
	bool		prio;			/* the queue is prioritised */
	bool		feat;			/* retention or prio: the *_feat / _pos plans */
	int			ncand;			/* candidate heads, in the order they are served */
	char	  **cand_grp;
	int64	   *cand_head;		/* the group's first message: its lock point */
	int			cand_next;		/* the candidate after the last one locked */
	int			ngroups;		/* groups whose head we locked, oldest first */
	FifoGroup  *groups;
	int			npicked;		/* msg_ids the batch takes, in batch order */
	int			maxpicked;		/* room in picked (grown as needed: qty may be huge) */
	int64	   *picked;
} FifoRead;

/* Arguments shared by the four entry points. */
typedef struct FifoArgs
{
	int32		vt;
	int32		qty;
	TimestampTz deadline;		/* polling forms; 0 = read once */
	int32		poll_interval_ms;
} FifoArgs;

/* A candidate group of a prioritised queue, while find_heads orders them. */
typedef struct FifoCand
{
	char	   *grp;
	int64		head;			/* lock point */
	int64		first;			/* first live message */
	int32		prio;			/* its priority */
} FifoCand;

/* Highest priority first, then the oldest first live message. */
static int
cand_cmp(const void *a, const void *b)
{
	const FifoCand *x = a;
	const FifoCand *y = b;

	if (x->prio != y->prio)
		return y->prio - x->prio;
	return (x->first > y->first) - (x->first < y->first);
}

/*
 * Step 1 on a prioritised queue: the heads statement's rows (group, lock
 * point, first live message, its headers; in SPI_tuptable) into fr->cand_*
 * in serving order.
 */
static void
order_by_priority(FifoRead *fr)
{
	FifoCand   *c = palloc(sizeof(FifoCand) * Max(fr->ncand, 1));
	int			i;

	for (i = 0; i < fr->ncand; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		hdr;

		c[i].grp = SPI_getvalue(tup, td, 1);
		c[i].head = DatumGetInt64(SPI_getbinval(tup, td, 2, &isnull));
		c[i].first = DatumGetInt64(SPI_getbinval(tup, td, 3, &isnull));
		hdr = SPI_getbinval(tup, td, 4, &isnull);
		c[i].prio = pgmq_headers_priority(hdr, isnull);
	}
	SPI_freetuptable(SPI_tuptable);
	if (fr->ncand > 1)
		qsort(c, fr->ncand, sizeof(FifoCand), cand_cmp);
	for (i = 0; i < fr->ncand; i++)
	{
		fr->cand_grp[i] = c[i].grp;
		fr->cand_head[i] = c[i].head;
	}
	pfree(c);
}

/*
 * Step 1: the eligible heads of all groups, in the order they are served
 * (oldest first; on a feature queue see HEADS_FEAT_SKIP), into fr->cand_*.
 */
static void
find_heads(FifoRead *fr)
{
	Datum		values[2];
	const PgmqPlanSpec *spec;
	bool		idx = pgmq_fifo_has_index(fr->q);
	uint64		i;

	values[0] = TimestampTzGetDatum(fr->now);
	values[1] = TimestampTzGetDatum(fr->oldest);
	if (!fr->feat)
		spec = idx ? &heads_skip_spec : &heads_scan_spec;
	else if (fr->prio)
		spec = idx ? &heads_prio_skip_spec : &heads_prio_scan_spec;
	else
		spec = idx ? &heads_ret_skip_spec : &heads_ret_scan_spec;
	pgmq_run(fr->q, spec, values, NULL);
	fr->ncand = (int) SPI_processed;
	fr->cand_grp = palloc(sizeof(char *) * Max(fr->ncand, 1));
	fr->cand_head = palloc(sizeof(int64) * Max(fr->ncand, 1));
	if (fr->prio)
		order_by_priority(fr);
	else
	{
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			bool		isnull;

			fr->cand_grp[i] = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
			fr->cand_head[i] = DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc,
														   2, &isnull));
		}
		SPI_freetuptable(SPI_tuptable);
	}
	fr->groups = palloc0(sizeof(FifoGroup) * Max(fr->ncand, 1));
	fr->ngroups = 0;
}

/*
 * Step 2: lock up to limit candidate heads from candidate number from on, in
 * candidate order; each locked head becomes a group of fr.  Returns how
 * many were locked.
 */
static int
lock_heads(FifoRead *fr, int limit, int from)
{
	Datum		values[5];
	uint64		i;
	int			c = 0;
	int			n;

	values[0] = pgmq_int8_array(fr->cand_head, fr->ncand);
	values[1] = TimestampTzGetDatum(fr->now);
	values[2] = Int32GetDatum(limit);
	if (fr->feat)
	{
		/* candidates in serving order: positions in the array */
		values[3] = Int64GetDatum((int64) from);
		values[4] = TimestampTzGetDatum(fr->oldest);
		pgmq_run(fr->q, &lock_heads_pos_spec, values, NULL);
	}
	else
	{
		/* candidates in msg_id order: those above the one before from */
		values[3] = Int64GetDatum(from > 0 ? fr->cand_head[from - 1] : 0);
		pgmq_run(fr->q, &lock_heads_spec, values, NULL);
	}
	n = (int) SPI_processed;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													 SPI_tuptable->tupdesc, 1, &isnull));
		FifoGroup  *g = &fr->groups[fr->ngroups++];

		if (fr->feat)
		{
			c = (int) id - 1;	/* the position, 1-based */
			if (c < from || c >= fr->ncand)
				elog(ERROR, "pgmq: locked head position " INT64_FORMAT " is out of range", id);
			id = fr->cand_head[c];
		}
		else
		{
			/* rows come back in msg_id order, as the candidates are */
			while (c < fr->ncand && fr->cand_head[c] != id)
				c++;
			if (c == fr->ncand)
				elog(ERROR, "pgmq: locked head " INT64_FORMAT " is not a candidate", id);
		}
		fr->cand_next = c + 1;
		g->grp = fr->cand_grp[c];
		g->head = id;
		g->last_id = id - 1;
		g->maxrows = 8;
		g->ids = palloc(sizeof(int64) * g->maxrows);
	}
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/*
 * Step 3: walk up to window more messages of each group in gs[0..n-1] that
 * has not ended, appending the deliverable ones.
 */
static void
walk_groups(FifoRead *fr, FifoGroup **gs, int n, int window)
{
	Datum	   *grps = palloc(sizeof(Datum) * n);
	int64	   *after = palloc(sizeof(int64) * n);
	FifoGroup **todo = palloc(sizeof(FifoGroup *) * n);
	int		   *seen;
	int			ntodo = 0;
	Datum		values[4];
	uint64		r;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (gs[i]->ended)
			continue;
		grps[ntodo] = CStringGetTextDatum(gs[i]->grp);
		after[ntodo] = gs[i]->last_id;
		todo[ntodo++] = gs[i];
	}
	if (ntodo == 0)
		return;
	values[0] = PointerGetDatum(construct_array(grps, ntodo, TEXTOID, -1, false,
												TYPALIGN_INT));
	values[1] = pgmq_int8_array(after, ntodo);
	values[2] = Int32GetDatum(window);
	values[3] = TimestampTzGetDatum(fr->oldest);
	pgmq_run(fr->q, fr->retention ? &walk_ret_spec : &walk_spec, values, NULL);

	seen = palloc0(sizeof(int) * ntodo);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		int			gi = (int) DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull)) - 1;
		int64		id = DatumGetInt64(SPI_getbinval(tup, td, 2, &isnull));
		TimestampTz vt = DatumGetTimestampTz(SPI_getbinval(tup, td, 3, &isnull));
		int32		read_ct = DatumGetInt32(SPI_getbinval(tup, td, 4, &isnull));
		FifoGroup  *g = todo[gi];

		seen[gi]++;
		if (g->ended)
			continue;
		/* the walk must start at the head we locked */
		if (g->last_id < g->head && id != g->head)
		{
			g->ended = true;
			continue;
		}
		/* expired: as if removed (neither delivered nor ending the run) */
		if (fr->retention && DatumGetBool(SPI_getbinval(tup, td, 5, &isnull)))
		{
			g->last_id = id;
			continue;
		}
		/* the run stops at a hidden message */
		if (vt > fr->now)
		{
			g->ended = true;
			continue;
		}
		g->last_id = id;
		if (read_ct >= fr->max_read_ct)
		{
			/* a dead letter: moved, and no longer holds back its group */
			if (g->npoison == g->maxpoison)
			{
				g->maxpoison = Max(8, g->maxpoison * 2);
				g->poison = g->poison ? repalloc(g->poison, sizeof(int64) * g->maxpoison)
					: palloc(sizeof(int64) * g->maxpoison);
			}
			g->poison[g->npoison++] = id;
			continue;
		}
		if (g->nrows == g->maxrows)
		{
			g->maxrows *= 2;
			g->ids = repalloc(g->ids, sizeof(int64) * g->maxrows);
		}
		g->ids[g->nrows++] = id;
	}
	SPI_freetuptable(SPI_tuptable);
	for (i = 0; i < ntodo; i++)
	{
		if (seen[i] < window)
			todo[i]->ended = true;	/* reached the end of the group */
	}
}

/* Whether group g has a k-th (0-based) deliverable message, walking on if needed. */
static bool
group_has(FifoRead *fr, FifoGroup *g, int k, int window)
{
	while (g->nrows <= k && !g->ended)
		walk_groups(fr, &g, 1, Max(window, k + 1 - g->nrows));
	return g->nrows > k;
}

/* Add msg_id id to the batch. */
static void
pick(FifoRead *fr, int64 id)
{
	if (fr->npicked == fr->maxpicked)
	{
		fr->maxpicked *= 2;
		fr->picked = repalloc(fr->picked, sizeof(int64) * fr->maxpicked);
	}
	fr->picked[fr->npicked++] = id;
}

/*
 * read_grouped: lock the first available group in serving order (oldest
 * head; on a prioritised queue highest head first), take its run of visible
 * messages, and go on to the next group while the batch has room.
 */
static void
choose_grouped(FifoRead *fr)
{
	while (fr->npicked < fr->qty && lock_heads(fr, 1, fr->cand_next) == 1)
	{
		FifoGroup  *g = &fr->groups[fr->ngroups - 1];
		int			want = fr->qty - fr->npicked;
		int			k;

		walk_groups(fr, &g, 1, want);
		for (k = 0; k < want && group_has(fr, g, k, want - k); k++)
		{
			pick(fr, g->ids[k]);
			g->taken++;
		}
	}
}

/*
 * read_grouped_rr: lock up to qty available groups at once (in serving
 * order), then take the first message of each, the second of each, ... up
 * to the max_rank-th of each (read_grouped_head: 1, see fifo_head.c).
 */
static void
choose_rr(FifoRead *fr, int max_rank)
{
	FifoGroup **gs;
	int			n = lock_heads(fr, fr->qty, 0);
	int			window;
	int			rank;
	int			i;

	if (n == 0)
		return;
	gs = palloc(sizeof(FifoGroup *) * n);
	for (i = 0; i < n; i++)
		gs[i] = &fr->groups[i];
	window = (int) Min(((int64) fr->qty + n - 1) / n, (int64) max_rank);
	walk_groups(fr, gs, n, window);
	for (rank = 0; rank < max_rank && fr->npicked < fr->qty; rank++)
	{
		bool		progress = false;

		for (i = 0; i < n && fr->npicked < fr->qty; i++)
		{
			if (!group_has(fr, gs[i], rank, window))
				continue;
			pick(fr, gs[i]->ids[rank]);
			gs[i]->taken++;
			progress = true;
		}
		if (!progress)
			break;
	}
}

/* Move the dead letters met in the walks of all locked groups. */
static void
move_poison(FifoRead *fr)
{
	int64	   *ids;
	int			n = 0;
	int			i;

	if (fr->dl == NULL)
		return;
	for (i = 0; i < fr->ngroups; i++)
		n += fr->groups[i].npoison;
	if (n == 0)
		return;
	ids = palloc(sizeof(int64) * n);
	n = 0;
	for (i = 0; i < fr->ngroups; i++)
	{
		memcpy(ids + n, fr->groups[i].poison, sizeof(int64) * fr->groups[i].npoison);
		n += fr->groups[i].npoison;
	}
	pgmq_dead_letter_ids(fr->q, fr->dl, ids, n, fr->now);
}

/* Step 4: take the picked messages and append them to the result. */
static uint64
take_picked(FifoRead *fr, FunctionCallInfo fcinfo)
{
	Datum		values[4];
	uint64		n;

	if (fr->npicked == 0)
		return 0;
	values[0] = pgmq_int8_array(fr->picked, fr->npicked);
	values[1] = TimestampTzGetDatum(fr->now + (TimestampTz) fr->vt * USECS_PER_SEC);
	values[2] = TimestampTzGetDatum(fr->now);
	values[3] = Int32GetDatum(fr->max_read_ct);
	n = pgmq_run(fr->q, &take_spec, values, NULL);
	pgmq_emit_rows(fcinfo);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* One grouped read attempt on open queue q, connected to SPI. */
static uint64
read_grouped_once(FunctionCallInfo fcinfo, PgmqQueue *q, const FifoArgs *fa,
				  PgmqFifoMode mode)
{
	FifoRead	fr;
	PgmqDeadLetter dl;

	memset(&fr, 0, sizeof(fr));
	fr.q = q;
	fr.vt = fa->vt;
	fr.qty = fa->qty;
	fr.max_read_ct = PG_INT32_MAX;
	if (pgmq_dead_letter_open(q, &dl))
	{
		fr.dl = &dl;
		fr.max_read_ct = dl.max_read_ct;
	}
	fr.now = GetCurrentTimestamp();
	/* issue 16: one cached test each; a queue with neither keeps its plans */
	fr.retention = pgmq_retention_cutoff(q, fr.now, &fr.oldest);
	if (!fr.retention)
		fr.oldest = DT_NOBEGIN;
	fr.prio = pgmq_priority_applies(q);
	fr.feat = fr.retention || fr.prio;
	fr.maxpicked = Min(fa->qty, 64);
	fr.picked = palloc(sizeof(int64) * fr.maxpicked);

	find_heads(&fr);
	if (fr.ncand == 0)
		return 0;
	if (mode == PGMQ_FIFO_GROUPED)
		choose_grouped(&fr);
	else
		choose_rr(&fr, mode == PGMQ_FIFO_HEAD ? 1 : PG_INT32_MAX);
	move_poison(&fr);
	return take_picked(&fr, fcinfo);
}

/* Check vt, qty and (polling forms) max_poll_seconds, poll_interval_ms. */
static void
fifo_args(FunctionCallInfo fcinfo, bool poll, FifoArgs *fa)
{
	fa->vt = pgmq_nonneg_int_arg(fcinfo, 1, "vt");
	fa->qty = pgmq_positive_int_arg(fcinfo, 2, "qty");
	fa->deadline = 0;
	fa->poll_interval_ms = 0;
	if (poll)
	{
		int32		max_poll_seconds = pgmq_nonneg_int_arg(fcinfo, 3, "max_poll_seconds");

		fa->poll_interval_ms = pgmq_positive_int_arg(fcinfo, 4, "poll_interval_ms");
		fa->deadline = GetCurrentTimestamp() +
			(TimestampTz) max_poll_seconds * USECS_PER_SEC;
	}
}

/*
 * Run a grouped read: once, or (polling forms) again after each wait until
 * something was read or the deadline passed.  Also the body of fifo_head.c's
 * entry points.
 */
Datum
pgmq_fifo_read(FunctionCallInfo fcinfo, bool poll, PgmqFifoMode mode)
{
	PgmqQueue	q;
	FifoArgs	fa;

	pgmq_init_srf(fcinfo);
	fifo_args(fcinfo, poll, &fa);
	pgmq_open_queue(fcinfo, 0, RowExclusiveLock, &q);
	/* one SPI connection per attempt: its memory is freed before the next */
	for (;;)
	{
		bool		done;

		pgmq_connect();
		done = read_grouped_once(fcinfo, &q, &fa, mode) > 0 || !poll ||
			GetCurrentTimestamp() >= fa.deadline;
		if (!done)
			pgmq_wait_for_messages(&q, fa.deadline, fa.poll_interval_ms);
		else
			pgmq_stats_read(&q, fcinfo);
		pgmq_finish();
		if (done)
			break;
	}
	return (Datum) 0;
}

/* pgmq.read_grouped(queue_name text, vt integer, qty integer) */
Datum
pgmq_read_grouped(PG_FUNCTION_ARGS)
{
	return pgmq_fifo_read(fcinfo, false, PGMQ_FIFO_GROUPED);
}

/*
 * pgmq.read_grouped_with_poll(queue_name text, vt integer, qty integer,
 *		max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
 */
Datum
pgmq_read_grouped_with_poll(PG_FUNCTION_ARGS)
{
	return pgmq_fifo_read(fcinfo, true, PGMQ_FIFO_GROUPED);
}

/* pgmq.read_grouped_rr(queue_name text, vt integer, qty integer) */
Datum
pgmq_read_grouped_rr(PG_FUNCTION_ARGS)
{
	return pgmq_fifo_read(fcinfo, false, PGMQ_FIFO_RR);
}

/*
 * pgmq.read_grouped_rr_with_poll(queue_name text, vt integer, qty integer,
 *		max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
 */
Datum
pgmq_read_grouped_rr_with_poll(PG_FUNCTION_ARGS)
{
	return pgmq_fifo_read(fcinfo, true, PGMQ_FIFO_RR);
}
