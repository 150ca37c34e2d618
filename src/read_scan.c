/*
 * read_scan.c
 *	  The forward scan that moves a queue's read start position
 *	  (horizon.c) past the committed-dead head of its (vt, ...) index.
 *
 * Before a read, pgmq_horizon_advance() claims the queue's slot (one scanner
 * per queue at a time; the others skip), walks the vt index from the start
 * position up to "now" with SnapshotAny, and for each entry looks at the
 * heap itself: the entry is "gone" when every version of its HOT chain was
 * deleted or updated by a committed transaction or inserted by an aborted
 * one (HeapTupleSatisfiesVacuumHorizon says DEAD or RECENTLY_DEAD).  The
 * walk stops at the first entry that is not gone (live, locked, or written
 * by a transaction still in progress), which becomes the new start, or after
 * MAX_STEPS entries.  Each dead entry is thus stepped over by one scan
 * instead of by every read while the horizon is pinned.
 *
 * The scan reads table contents outside the executor, so the caller's
 * privileges are checked explicitly first: SELECT on the queue table, and no
 * row level security on it (otherwise this backend does not scan; its reads
 * still begin at the start position other backends maintain, which needs
 * no privilege beyond the read's own).  Reads use the start position only
 * when the installed SQL has pgmq._horizon_start (1.13.1 on); an older
 * installed version reads as before.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/table.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type_d.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "horizon.h"
#include "pg_compat.h"

/* most index entries one advance steps over */
#define MAX_STEPS 20000

/*
 * Reads of this backend that skip the scan after one that stepped over
 * entries every snapshot already sees as dead: nothing pins the horizon, so
 * the read's own index scan marks such entries killed and steps over them
 * at little cost, and the scan (a second index descent and leaf page read
 * per read) would cost more than it saves.  A writer moving the start back
 * below where that scan left it ends the skipping (the next read scans).
 * Skipping only leaves the start behind, which is always safe.
 */
#define IDLE_SKIP 16

/*
 * The btree index of q whose first key column is vt (plain, valid, not
 * partial), or InvalidOid.  Partitioned queues have none usable here.
 */
static Oid
find_vt_index(Oid qrelid)
{
	Relation	heap = table_open(qrelid, NoLock);
	AttrNumber	vt_att = get_attnum(qrelid, "vt");
	Oid			result = InvalidOid;
	List	   *indexes;
	ListCell   *lc;
	if (heap->rd_rel->relkind != RELKIND_RELATION || vt_att == InvalidAttrNumber)
	{
		table_close(heap, NoLock);
		return InvalidOid;
	}
	indexes = RelationGetIndexList(heap);
	foreach(lc, indexes)
	{
		Relation	index = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ix = index->rd_index;

		if (index->rd_rel->relam == BTREE_AM_OID && ix->indisvalid && ix->indisready &&
			ix->indkey.values[0] == vt_att && index->rd_opcintype[0] == TIMESTAMPTZOID &&
			RelationGetIndexPredicate(index) == NIL &&
			(index->rd_indoption[0] & INDOPTION_DESC) == 0)
			result = RelationGetRelid(index);
		index_close(index, AccessShareLock);
		if (OidIsValid(result))
			break;
	}
	list_free(indexes);
	table_close(heap, NoLock);
	return result;
}

/*
 * Is every version reachable from tid (its HOT chain) deleted or updated by
 * a committed transaction, or inserted by an aborted one?  *buf is the
 * buffer kept pinned between calls.  *held is set when a version of a gone
 * chain is still visible to some snapshot (the horizon holds it).
 */
static bool
chain_is_gone(Relation heap, ItemPointer tid, Buffer *buf, GlobalVisState *vis,
			  bool *held)
{
	BlockNumber blk = ItemPointerGetBlockNumber(tid);
	OffsetNumber off = ItemPointerGetOffsetNumber(tid);
	TransactionId prev_xmax = InvalidTransactionId;
	bool		at_root = true;
	bool		gone = true;
	Page		page;

	*buf = ReleaseAndReadBuffer(*buf, heap, blk);
	LockBuffer(*buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(*buf);
	for (;;)
	{
		ItemId		lp;
		HeapTupleData tup;
		TransactionId dead_after;

		if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
			break;
		lp = PageGetItemId(page, off);
		if (ItemIdIsRedirected(lp))
		{
			if (!at_root)
				break;
			off = ItemIdGetRedirect(lp);
			at_root = false;
			continue;
		}
		if (!ItemIdIsNormal(lp))
			break;				/* pruned: nothing left here */
		tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
		tup.t_len = ItemIdGetLength(lp);
		tup.t_tableOid = RelationGetRelid(heap);
		ItemPointerSet(&tup.t_self, blk, off);
		if (TransactionIdIsValid(prev_xmax) &&
			!TransactionIdEquals(prev_xmax, HeapTupleHeaderGetXmin(tup.t_data)))
			break;				/* the chain ended; a slot reused */
		switch (HeapTupleSatisfiesVacuumHorizon(&tup, *buf, &dead_after))
		{
			case HEAPTUPLE_DEAD:
				break;
			case HEAPTUPLE_RECENTLY_DEAD:
				if (!GlobalVisTestIsRemovableXid(vis, dead_after))
					*held = true;
				break;
			default:
				gone = false;
				break;
		}
		if (!gone || !HeapTupleIsHotUpdated(&tup))
			break;
		off = ItemPointerGetOffsetNumber(&tup.t_data->t_ctid);
		prev_xmax = HeapTupleHeaderGetUpdateXid(tup.t_data);
		at_root = false;
	}
	LockBuffer(*buf, BUFFER_LOCK_UNLOCK);
	return gone;
}

/*
 * Walk index from start (DT_NOBEGIN: the beginning) to now; the new start:
 * the vt of the first entry that is not gone, or now.  *idle: it stepped
 * over entries and no snapshot still sees any of them (see IDLE_SKIP).
 */
static TimestampTz
scan_forward(Relation heap, Relation index, TimestampTz start, TimestampTz now,
			 bool *idle)
{
	GlobalVisState *vis = GlobalVisTestFor(heap);
	bool		held = false;
	ScanKeyData keys[2];
	int			nkeys = 0;
	IndexScanDesc scan;
	ItemPointer tid;
	Buffer		buf = InvalidBuffer;
	TimestampTz result = now;
	int			steps = 0;

	if (start != DT_NOBEGIN)
		ScanKeyInit(&keys[nkeys++], 1, BTGreaterEqualStrategyNumber,
					F_TIMESTAMPTZ_GE, TimestampTzGetDatum(start));
	ScanKeyInit(&keys[nkeys++], 1, BTLessEqualStrategyNumber,
				F_TIMESTAMPTZ_LE, TimestampTzGetDatum(now));
	scan = pgmq_index_beginscan(heap, index, SnapshotAny, nkeys);
	scan->xs_want_itup = true;
	index_rescan(scan, keys, nkeys, NULL, 0);
	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		TimestampTz vt = DatumGetTimestampTz(index_getattr(scan->xs_itup, 1,
														   scan->xs_itupdesc, &isnull));

		if (isnull || !chain_is_gone(heap, tid, &buf, vis, &held) || ++steps >= MAX_STEPS)
		{
			result = isnull ? start : vt;
			break;
		}
	}
	if (BufferIsValid(buf))
		ReleaseBuffer(buf);
	index_endscan(scan);
	*idle = steps > 0 && !held;
	return result;
}

/* Does the installed SQL have pgmq._horizon_start(oid) (version 1.13.1 on)? */
static bool
start_function_exists(void)
{
	Oid			argtype = OIDOID;

	return OidIsValid(LookupFuncName(list_make2(makeString("pgmq"),
												makeString("_horizon_start")),
									 1, &argtype, true));
}

/*
 * Move q's start position past its committed-dead head, if this backend
 * may and nobody else is doing it.  q is open (locked) for this call.
 * Returns whether the read should begin at the start position (it is in
 * use and the installed SQL has pgmq._horizon_start).
 */
bool
pgmq_horizon_advance(PgmqQueue *q, TimestampTz now)
{
	PgmqQueueState *st = pgmq_queue_state(q);
	HorizonClaim claim;
	Relation	heap;
	Relation	index;
	TimestampTz new_start = DT_NOBEGIN;
	bool		idle = false;

	if (!pgmq_horizon_enabled())
		return false;
	if (!st->horizon_known)
	{
		st->horizon_index = start_function_exists() ? find_vt_index(q->qrelid) : InvalidOid;
		st->horizon_known = true;
		st->horizon_user = InvalidOid;
		st->horizon_skip = 0;
	}
	if (!OidIsValid(st->horizon_index))
		return false;
	if (st->horizon_user != GetUserId())
	{
		st->horizon_allowed =
			pg_class_aclcheck(q->qrelid, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
			check_enable_rls(q->qrelid, InvalidOid, true) == RLS_NONE;
		st->horizon_user = GetUserId();
	}
	if (!st->horizon_allowed)
		return true;
	if (st->horizon_skip > 0)
	{
		st->horizon_skip--;
		if (pgmq_horizon_current(q->qrelid) >= st->horizon_left)
			return true;
		st->horizon_skip = 0;	/* a writer moved it back: scan again */
	}
	if (!pgmq_horizon_claim(q->qrelid, &claim))
		return true;
	PG_TRY();
	{
		heap = table_open(q->qrelid, NoLock);
		index = index_open(st->horizon_index, AccessShareLock);
		new_start = scan_forward(heap, index, claim.start, now, &idle);
		index_close(index, AccessShareLock);
		table_close(heap, NoLock);
	}
	PG_CATCH();
	{
		pgmq_horizon_release(&claim, false, DT_NOBEGIN);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pgmq_horizon_release(&claim, true, new_start);
	st->horizon_skip = idle ? IDLE_SKIP : 0;
	if (idle)
		st->horizon_left = pgmq_horizon_current(q->qrelid);
	return true;
}
