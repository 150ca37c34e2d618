/*
 * dedup.c
 *	  Message deduplication: pgmq.set_dedup_window and the send path of
 *	  messages that carry the header x-pgmq-dedup-id on a queue with a
 *	  window (send and send_batch, and send_topic / send_batch_topic for
 *	  each queue they deliver to, reach it through pgmq_dedup_applies()).
 *
 * Storage: per queue, pgmq.d_<name> (dedup_id text COLLATE "C" PRIMARY KEY,
 * msg_id bigint, sent_at timestamptz; no other index, so that a send pays
 * for one index insert more than a plain send), created by set_dedup_window
 * with the queue table's persistence, dropped with the queue (an automatic
 * dependency on q_<name>) or when the window is turned off.  Every role that
 * may INSERT into q_<name> gets SELECT, INSERT, UPDATE and DELETE on it
 * (each call of set_dedup_window copies the grants again).  The window of
 * each queue is a row of pgmq.dedup_settings, cached in the queue's
 * PgmqQueueState; every change invalidates the queue table's relcache entry.
 * A queue without a window pays one cached test, and only on sends with
 * headers.
 *
 * A send with an id takes its msg_id from the queue's identity sequence
 * first (as the column default would: nextval without a sequence privilege,
 * since the caller may INSERT into the queue), then, in one statement:
 *	  - records (id, msg_id, now) in d_<name>, or overwrites an expired record
 *		of the id (INSERT ... ON CONFLICT DO UPDATE ... WHERE expired);
 *	  - inserts the message with that msg_id if the record was written.
 * If a live record exists, nothing is written (the record is only locked)
 * and a second statement reads its msg_id: the original, whatever became of
 * that message.  Concurrent senders of one id are serialized by the primary
 * key: the second one's insert waits for the first's transaction, then sees
 * its record (or, if it rolled back, writes its own).  No lock table entry
 * is used, so a transaction may send any number of ids.  In REPEATABLE READ
 * or SERIALIZABLE, a record committed after the snapshot makes the send fail
 * with 40001 (retry it), never insert a duplicate.  A duplicate leaves a gap
 * in the msg_ids, as a rolled-back send does.
 *
 * send_batch draws the msg_ids of all its messages first, in input order (so
 * the batch is read in input order, as without deduplication), then writes
 * the elements with an id in the order of their ids (two batches with the
 * same ids in different orders cannot deadlock), then the others.  An id
 * repeated inside a batch gets the first occurrence's msg_id at both places.
 *
 * Expired records: every DEDUP_CLEAN_EVERY sends with an id, the sending
 * backend deletes the expired records found in the next DEDUP_CLEAN_BLOCKS
 * blocks of d_<name> (a TID range scan going round the table, SKIP LOCKED):
 * bounded work per step, and every record is reached after a bounded number
 * of sends.  A record is only ever looked at by senders of its own id, so
 * the clean-up never makes a sender wait, except one that re-sends that very
 * expired id before the cleaning transaction ends.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class_d.h"
#include "catalog/pg_type_d.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "horizon.h"
#include "pg_compat.h"
#include "pgmq.h"
#include "stats.h"

PG_FUNCTION_INFO_V1(pgmq_set_dedup_window);

#define DEDUP_HEADER "x-pgmq-dedup-id"
#define DEDUP_MAX_CHARS 128
/* longest window: 14 days */
#define DEDUP_MAX_WINDOW (14 * 86400)
#define DEDUP_CLEAN_EVERY 256
#define DEDUP_CLEAN_BLOCKS 4
/* locktag field4 of the per-id locks (the SQL advisory functions use 1, 2) */
#define DEDUP_LOCK_SPACE 0x4450

/*
 * Plan texts must use the format's arguments 1 to 3 without a gap: the ones
 * a statement does not need go in this comment.
 */
#define TABLES_NOTE "/* %1$s %2$s */ "

/*
 * $1 msg, $2 headers, $3 vt, $4 dedup id, $5 start of the window, $6 the
 * new msg_id.  Returns the msg_id inserted, no row when a live record of
 * the id exists (then locked).  The message insert is the statement itself
 * and the record's insert its only CTE: the cheapest executor tree that
 * writes both (no outer SELECT, no CTE scan of the message insert).
 */
static const PgmqPlanSpec dedup_send_spec = {
	PGMQ_FIXED_PLAN TABLES_NOTE
	"WITH c AS (INSERT INTO %3$s AS d (dedup_id, msg_id, sent_at)"
	"  VALUES ($4, $6, pg_catalog.clock_timestamp())"
	"  ON CONFLICT (dedup_id) DO UPDATE SET msg_id = excluded.msg_id, sent_at = excluded.sent_at"
	"  WHERE d.sent_at OPERATOR(pg_catalog.<) $5 RETURNING d.msg_id)"
	" INSERT INTO %1$s (msg_id, vt, message, headers) OVERRIDING SYSTEM VALUE"
	" SELECT c.msg_id, $3, $1, $2 FROM c RETURNING msg_id",
	6, {JSONBOID, JSONBOID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID, INT8OID}
};

/* The msg_id recorded for id $1. */
static const PgmqPlanSpec dedup_lookup_spec = {
	PGMQ_FIXED_PLAN TABLES_NOTE
	"SELECT msg_id FROM %3$s WHERE dedup_id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}
};

/* A message whose msg_id is decided: $1 msg, $2 headers, $3 vt, $4 msg_id. */
static const PgmqPlanSpec dedup_plain_spec = {
	PGMQ_FIXED_PLAN "INSERT INTO %1$s (msg_id, vt, message, headers) OVERRIDING SYSTEM VALUE"
	" VALUES ($4, $3, $1, $2)",
	4, {JSONBOID, JSONBOID, TIMESTAMPTZOID, INT8OID}
};

/*
 * Run spec, which inserts message(s) with visibility time vt into q, stating
 * that vt to the read start position (horizon.c) as a plain send does, so
 * that the insert does not send the queue's start back to -infinity.
 */
static uint64
run_insert(PgmqQueue *q, const PgmqPlanSpec *spec, Datum *values, const char *nulls, Datum vt)
{
	uint64		n;

	pgmq_horizon_expect_write(q->qrelid, DatumGetTimestampTz(vt));
	n = pgmq_run(q, spec, values, nulls);
	pgmq_horizon_expect_done();
	return n;
}


/*
 * Delete the records older than $1 among the blocks [$2, $3) of the table
 * (a TID range scan: d_<name> has no index but its primary key, so that a
 * send pays for one index only).
 */
static const PgmqPlanSpec dedup_clean_spec = {
	PGMQ_FIXED_PLAN TABLES_NOTE
	"DELETE FROM %3$s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY("
	" SELECT ctid FROM %3$s WHERE ctid OPERATOR(pg_catalog.>=) $2"
	" AND ctid OPERATOR(pg_catalog.<) $3 AND sent_at OPERATOR(pg_catalog.<) $1"
	" FOR UPDATE SKIP LOCKED))",
	3, {TIMESTAMPTZOID, TIDOID, TIDOID}
};

/* Sends with an id by this backend since its last clean-up. */
static uint32 sends_since_clean = 0;

/* Does pgmq.<relname> exist? */
static Oid
pgmq_relid(const char *relname)
{
	Oid			nsp = pgmq_namespace_oid(true);

	return OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
}

/* The window of open queue q in seconds, 0 for none (connected to SPI). */
static int32
dedup_window(PgmqQueue *q)
{
	PgmqQueueState *st = pgmq_queue_state(q);
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	if (st->dedup_known)
		return st->dedup_window;
	st->dedup_window = 0;
	st->dedup_seq = InvalidOid;
	if (OidIsValid(pgmq_relid("dedup_settings")))
	{
		values[0] = CStringGetTextDatum(q->name);
		values[1] = CStringGetTextDatum(pgmq_qualified_table("q", q->name));
		pgmq_run_sql("SELECT window_seconds, pg_catalog.pg_get_serial_sequence($2, 'msg_id')"
					 "::pg_catalog.regclass::pg_catalog.oid FROM pgmq.dedup_settings"
					 " WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
					 SPI_OK_SELECT, 2, types, values, NULL);
		if (SPI_processed == 1)
		{
			bool		isnull;
			bool		seqnull;
			int32		w = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
			Oid			seq = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 2, &seqnull));

			if (!isnull && w > 0 && !seqnull && get_rel_relkind(seq) == RELKIND_SEQUENCE)
			{
				st->dedup_window = w;
				st->dedup_seq = seq;
				st->dedup_relid = pgmq_table_oid("d", q->name);
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}
	st->dedup_known = true;
	return st->dedup_window;
}

/*
 * The dedup id in headers h, or NULL when it has none.  A present id that is
 * not a string of 1 to DEDUP_MAX_CHARS characters is an error.
 */
static text *
dedup_id_of(Jsonb *h)
{
	JsonbValue	v;
	int			nchars;

	if (h == NULL || !JB_ROOT_IS_OBJECT(h))
		return NULL;
	if (getKeyJsonValueFromContainer(&h->root, DEDUP_HEADER, strlen(DEDUP_HEADER), &v) == NULL)
		return NULL;
	if (v.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header " DEDUP_HEADER " must be a string of 1 to %d characters",
						DEDUP_MAX_CHARS)));
	nchars = pg_mbstrlen_with_len(v.val.string.val, v.val.string.len);
	if (nchars < 1 || nchars > DEDUP_MAX_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("header " DEDUP_HEADER " must be a string of 1 to %d characters, got %d",
						DEDUP_MAX_CHARS, nchars)));
	return cstring_to_text_with_len(v.val.string.val, v.val.string.len);
}

/* The elements of jsonb[] arr (NULL elements as NULL pointers). */
static Jsonb **
jsonb_elements(Datum arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	Jsonb	  **out;
	int			i;

	deconstruct_array(DatumGetArrayTypeP(arr), JSONBOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = palloc(sizeof(Jsonb *) * (*n > 0 ? *n : 1));
	for (i = 0; i < *n; i++)
		out[i] = nulls[i] ? NULL : DatumGetJsonbP(elems[i]);
	return out;
}

/*
 * Does the send a to open queue q go through deduplication?  Yes when q has
 * a window and a message carries an id (which must then be valid).
 * Connected to SPI.
 */
bool
pgmq_dedup_applies(PgmqQueue *q, const PgmqSendArgs *a)
{
	Jsonb	  **hs;
	bool		any = false;
	int			n;
	int			i;

	if (a->headers_null || dedup_window(q) == 0)
		return false;
	if (!a->batch)
		return dedup_id_of(DatumGetJsonbP(a->headers)) != NULL;
	hs = jsonb_elements(a->headers, &n);
	for (i = 0; i < n; i++)
		any |= (dedup_id_of(hs[i]) != NULL);
	pfree(hs);
	return any;
}

/* A tid Datum for the first item of block blk. */
static Datum
block_tid(BlockNumber blk)
{
	ItemPointer tid = palloc(sizeof(ItemPointerData));

	ItemPointerSet(tid, blk, 1);
	return PointerGetDatum(tid);
}

/*
 * After nids more sends with an id: every DEDUP_CLEAN_EVERY of them, delete
 * the expired records of q found in the next DEDUP_CLEAN_BLOCKS blocks of
 * d_<name>.  The position goes round the table (per backend and queue,
 * from block 0 after every invalidation), so every record is looked at
 * again after a bounded number of sends, however big the table is.
 */
static void
clean_step(PgmqQueue *q, TimestampTz window_start, int nids)
{
	PgmqQueueState *st = pgmq_queue_state(q);
	Datum		values[3];
	Oid			drelid;
	Relation	rel;
	BlockNumber nblocks;
	BlockNumber from;

	sends_since_clean += nids;
	if (sends_since_clean < DEDUP_CLEAN_EVERY)
		return;
	sends_since_clean = 0;
	drelid = pgmq_table_oid("d", q->name);
	if (!OidIsValid(drelid))
		return;
	rel = table_open(drelid, RowExclusiveLock);
	nblocks = RelationGetNumberOfBlocks(rel);
	table_close(rel, NoLock);
	from = st->dedup_clean_block;
	if (from >= nblocks)
		from = 0;
	st->dedup_clean_block = from + DEDUP_CLEAN_BLOCKS;
	values[0] = TimestampTzGetDatum(window_start);
	values[1] = block_tid(from);
	values[2] = block_tid(from + DEDUP_CLEAN_BLOCKS);
	pgmq_run(q, &dedup_clean_spec, values, NULL);
}

/* Draw a msg_id from q's identity sequence (see the file header). */
static int64
next_msg_id(PgmqQueue *q)
{
	return nextval_internal(pgmq_queue_state(q)->dedup_seq, false);
}

/* What record_fast() did. */
typedef enum FastResult
{
	FAST_NEW,					/* wrote the record: insert the message */
	FAST_DUP,					/* found a live committed record: its msg_id */
	FAST_SQL					/* did nothing: take the SQL path */
} FastResult;

/*
 * Is d_<name>, opened as rel, the table create_dedup_table makes, written
 * only through its heap and indexes (no trigger, no row security), and has
 * the caller the privileges the SQL path needs on it (SELECT, INSERT,
 * UPDATE)?  Anything else takes the SQL path, which checks
 * and fires all of it.
 */
static bool
plain_record_table(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	static const Oid types[3] = {TEXTOID, INT8OID, TIMESTAMPTZOID};
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->trigdesc != NULL ||
		rel->rd_rel->relrowsecurity || desc->natts != 3 ||
		pg_class_aclmask(RelationGetRelid(rel), GetUserId(), ACL_SELECT | ACL_INSERT | ACL_UPDATE,
						 ACLMASK_ALL) != (ACL_SELECT | ACL_INSERT | ACL_UPDATE))
		return false;
	for (i = 0; i < 3; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->atttypid != types[i] || att->attgenerated)
			return false;
	}
	return true;
}

/*
 * The record at tid, as this backend sees it (READ COMMITTED only): if it is
 * committed or our own, not being replaced, and live at window_start, set
 * *orig to its msg_id and return true.
 */
static bool
live_record(Relation rel, ItemPointer tid, TimestampTz window_start, int64 *orig)
{
	TupleTableSlot *slot;
	bool		live = false;

	if (IsolationUsesXactSnapshot())
		return false;
	slot = table_slot_create(rel, NULL);
	if (table_tuple_fetch_row_version(rel, tid, SnapshotSelf, slot))
	{
		slot_getallattrs(slot);
		if (!slot->tts_isnull[1] && !slot->tts_isnull[2] &&
			DatumGetTimestampTz(slot->tts_values[2]) >= window_start)
		{
			*orig = DatumGetInt64(slot->tts_values[1]);
			live = true;
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	return live;
}

/*
 * The common case without a statement: write the record (id, msg_id, now)
 * straight into d_<name> with the speculative insertion INSERT ... ON
 * CONFLICT uses (insert the row and its primary key entry under a
 * speculative token; if an entry of the id exists, take the row back, look
 * for the conflicting record, waiting for its sender if it is in progress,
 * and insert again only if it went away), so concurrent senders of one id
 * still end up with one record.  A live committed record seen in READ COMMITTED gives
 * its msg_id at once.  Every other case (an expired record to overwrite,
 * REPEATABLE READ or SERIALIZABLE, a table that is not as created, no
 * privilege) returns FAST_SQL with nothing done.
 */
static FastResult
record_fast(PgmqQueue *q, text *id, int64 msg_id, TimestampTz window_start, int64 *orig)
{
	Oid			drelid = pgmq_queue_state(q)->dedup_relid;
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	FastResult	result = FAST_SQL;
	bool		arbiter = false;
	int			attempt;
	int			i;

	if (!OidIsValid(drelid) || (rel = try_table_open(drelid, RowExclusiveLock)) == NULL)
		return FAST_SQL;
	if (!plain_record_table(rel))
	{
		table_close(rel, NoLock);
		return FAST_SQL;
	}
	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, true);
	for (i = 0; i < rri->ri_NumIndices; i++)
		arbiter |= rri->ri_IndexRelationInfo[i]->ii_Unique;
	slot = table_slot_create(rel, NULL);
	ExecClearTuple(slot);
	slot->tts_values[0] = PointerGetDatum(id);
	slot->tts_values[1] = Int64GetDatum(msg_id);
	slot->tts_values[2] = TimestampTzGetDatum(GetCurrentTimestamp());
	memset(slot->tts_isnull, 0, sizeof(bool) * 3);
	ExecStoreVirtualTuple(slot);

	for (attempt = 0; arbiter; attempt++)
	{
		ItemPointerData conflict;
		TransactionId xid;
		uint32		token;
		bool		spec_conflict = false;
		List	   *recheck;

		/*
		 * Look for a conflicting record (waiting for its sender) only after a
		 * first speculative insertion found one: a new id, the common case,
		 * pays for one index descent, not two.
		 */
		if (attempt > 0 && !pgmq_check_index_constraints(rri, slot, estate, &conflict))
		{
			if (live_record(rel, &conflict, window_start, orig))
				result = FAST_DUP;
			break;
		}
		xid = GetCurrentTransactionId();
		token = SpeculativeInsertionLockAcquire(xid);
		table_tuple_insert_speculative(rel, slot, GetCurrentCommandId(true), 0, NULL, token);
		recheck = pgmq_insert_index_tuples(rri, slot, estate, true, &spec_conflict);
		table_tuple_complete_speculative(rel, slot, token, !spec_conflict);
		SpeculativeInsertionLockRelease(xid);
		list_free(recheck);
		if (!spec_conflict)
		{
			result = FAST_NEW;
			break;
		}
		/* a record of the id exists or is being written: look at it */
	}
	ExecDropSingleTupleTableSlot(slot);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
	return result;
}

/*
 * Send one message with id, to have msg_id if it is new; returns the msg_id
 * to report, and adds 1 to *stored when the message was inserted (not a
 * duplicate), for pgmq.stats.
 */
static int64
send_with_id(PgmqQueue *q, Datum msg, Jsonb *headers, Datum vt, text *id,
			 int64 msg_id, TimestampTz window_start, uint64 *stored)
{
	Datum		values[6];
	bool		isnull;
	Datum		got = (Datum) 0;
	int64		orig;

	switch (record_fast(q, id, msg_id, window_start, &orig))
	{
		case FAST_NEW:
			{
				Datum		pvalues[4];

				pvalues[0] = msg;
				pvalues[1] = JsonbPGetDatum(headers);
				pvalues[2] = vt;
				pvalues[3] = Int64GetDatum(msg_id);
				run_insert(q, &dedup_plain_spec, pvalues, NULL, vt);
				(*stored)++;
				return msg_id;
			}
		case FAST_DUP:
			return orig;
		case FAST_SQL:
			break;
	}

	values[0] = msg;
	values[1] = JsonbPGetDatum(headers);
	values[2] = vt;
	values[3] = PointerGetDatum(id);
	values[4] = TimestampTzGetDatum(window_start);
	values[5] = Int64GetDatum(msg_id);
	if (run_insert(q, &dedup_send_spec, values, NULL, vt) == 1)
	{
		SPI_freetuptable(SPI_tuptable);
		(*stored)++;
		return msg_id;
	}
	SPI_freetuptable(SPI_tuptable);
	isnull = true;

	/* a live record: its msg_id, seen by this statement's fresh snapshot */
	if (pgmq_run(q, &dedup_lookup_spec, &values[3], NULL) == 1)
		got = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_freetuptable(SPI_tuptable);
	if (isnull)
		/* cannot happen: the record is locked and live */
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not find the record of " DEDUP_HEADER " of a message sent to queue \"%s\"",
						q->name),
				 errhint("Retry the transaction.")));
	return DatumGetInt64(got);
}

/* One element of a batch, for ordering the writes. */
typedef struct BatchItem
{
	int			pos;			/* in the batch */
	text	   *id;				/* NULL: no dedup id */
	int64		msg_id;			/* drawn in input order */
} BatchItem;

/* Elements with an id first, by id (bytes), then by position. */
static int
batch_item_cmp(const void *a, const void *b)
{
	const BatchItem *x = a;
	const BatchItem *y = b;
	int			lx;
	int			ly;
	int			c;

	if ((x->id == NULL) != (y->id == NULL))
		return x->id == NULL ? 1 : -1;
	if (x->id != NULL)
	{
		lx = VARSIZE_ANY_EXHDR(x->id);
		ly = VARSIZE_ANY_EXHDR(y->id);
		c = memcmp(VARDATA_ANY(x->id), VARDATA_ANY(y->id), Min(lx, ly));
		if (c != 0)
			return c;
		if (lx != ly)
			return lx < ly ? -1 : 1;
	}
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/*
 * Send a (see pgmq_dedup_applies) to open queue q.  Returns the msg_ids, one
 * per message in input order (a duplicate's is the original one), and sets
 * *n to their number.  Connected to SPI: the array is in the current (SPI)
 * memory context.  send, send_batch and the topic sends (topics.c, once per
 * bound queue with a window) all come here.
 */
int64 *
pgmq_dedup_send(PgmqQueue *q, const PgmqSendArgs *a, uint64 *n)
{
	TimestampTz window_start = GetCurrentTimestamp() -
		(TimestampTz) dedup_window(q) * USECS_PER_SEC;
	int64	   *result;
	int			nids = 0;
	uint64		stored = 0;		/* messages inserted (not duplicates) */

	if (!a->batch)
	{
		Jsonb	   *h = DatumGetJsonbP(a->headers);

		result = palloc(sizeof(int64));
		result[0] = send_with_id(q, a->msg, h, a->vt, dedup_id_of(h), next_msg_id(q),
								 window_start, &stored);
		nids = 1;
		*n = 1;
	}
	else
	{
		Jsonb	  **msgs;
		Jsonb	  **hs;
		BatchItem  *items;
		int			nmsgs;
		int			nh;
		int			i;

		msgs = jsonb_elements(a->msg, &nmsgs);
		hs = jsonb_elements(a->headers, &nh);
		Assert(nmsgs == nh);
		items = palloc(sizeof(BatchItem) * nmsgs);
		result = palloc(sizeof(int64) * nmsgs);
		for (i = 0; i < nmsgs; i++)
		{
			items[i].pos = i;
			items[i].id = dedup_id_of(hs[i]);
			items[i].msg_id = next_msg_id(q);
			nids += (items[i].id != NULL);
		}
		qsort(items, nmsgs, sizeof(BatchItem), batch_item_cmp);
		for (i = 0; i < nmsgs; i++)
		{
			BatchItem  *it = &items[i];

			if (it->id != NULL)
				result[it->pos] = send_with_id(q, JsonbPGetDatum(msgs[it->pos]), hs[it->pos],
											   a->vt, it->id, it->msg_id, window_start,
											   &stored);
			else
			{
				Datum		values[4];
				char		nulls[4] = {' ', ' ', ' ', ' '};

				values[0] = JsonbPGetDatum(msgs[it->pos]);
				values[1] = hs[it->pos] ? JsonbPGetDatum(hs[it->pos]) : (Datum) 0;
				nulls[1] = hs[it->pos] ? ' ' : 'n';
				values[2] = a->vt;
				values[3] = Int64GetDatum(it->msg_id);
				run_insert(q, &dedup_plain_spec, values, nulls, a->vt);
				stored++;
				result[it->pos] = it->msg_id;
			}
		}
		pfree(items);
		*n = nmsgs;
	}
	clean_step(q, window_start, nids);
	(void) pgmq_stats_sent(q, stored);
	return result;
}

/*
 * Send a as pgmq_dedup_send does, streaming the msg_ids in input order into
 * fcinfo's tuplestore (send, send_batch).  Connected to SPI.
 */
void
pgmq_dedup_send_into(FunctionCallInfo fcinfo, PgmqQueue *q, const PgmqSendArgs *a)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint64		n;
	int64	   *ids = pgmq_dedup_send(q, a, &n);
	uint64		i;

	for (i = 0; i < n; i++)
	{
		Datum		out = Int64GetDatum(ids[i]);
		bool		outnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &out, &outnull);
	}
	pfree(ids);
}

/* GRANT on d_<name> to every role that may INSERT into q (connected to SPI). */
static void
copy_grants(Oid qrelid, const char *dtable)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	uint64		i;
	List	   *grantees = NIL;
	ListCell   *lc;

	values[0] = ObjectIdGetDatum(qrelid);
	pgmq_run_sql("SELECT DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
				 " ELSE pg_catalog.quote_ident(r.rolname) END"
				 " FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a"
				 " LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee"
				 " WHERE c.oid OPERATOR(pg_catalog.=) $1"
				 " AND a.privilege_type OPERATOR(pg_catalog.=) 'INSERT'",
				 SPI_OK_SELECT, 1, types, values, NULL);
	for (i = 0; i < SPI_processed; i++)
		grantees = lappend(grantees, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	SPI_freetuptable(SPI_tuptable);
	foreach(lc, grantees)
		pgmq_run_sql(psprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s",
							  dtable, (char *) lfirst(lc)),
					 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
}

/* Drop d_<name> of q if there is one (connected to SPI). */
static void
drop_dedup_table(PgmqQueue *q, const char *dtable)
{
	if (OidIsValid(pgmq_table_oid("d", q->name)))
		pgmq_run_sql(psprintf("DROP TABLE %s", dtable), SPI_OK_UTILITY, 0, NULL, NULL, NULL);
}

/* Create d_<name> for open queue q, depending on its table (connected to SPI). */
static void
create_dedup_table(PgmqQueue *q, const char *dtable)
{
	bool		unlogged = get_rel_persistence(q->qrelid) == RELPERSISTENCE_UNLOGGED;
	ObjectAddress dep;
	ObjectAddress ref;
	Oid			drelid;

	drop_dedup_table(q, dtable);
	pgmq_run_sql(psprintf("CREATE %sTABLE %s (dedup_id text COLLATE \"C\" PRIMARY KEY,"
						  " msg_id bigint NOT NULL, sent_at timestamptz NOT NULL)",
						  unlogged ? "UNLOGGED " : "", dtable),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	drelid = pgmq_table_oid("d", q->name);
	if (!OidIsValid(drelid))
		elog(ERROR, "pgmq: could not find %s after creating it", dtable);
	ObjectAddressSet(dep, RelationRelationId, drelid);
	ObjectAddressSet(ref, RelationRelationId, q->qrelid);
	recordDependencyOn(&dep, &ref, DEPENDENCY_AUTO);
}

/* pgmq.set_dedup_window(queue_name text, seconds integer) RETURNS void */
Datum
pgmq_set_dedup_window(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	int32		seconds = 0;
	char	   *dtable;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];

	pgmq_name_arg(fcinfo, 0, q.name);
	if (!PG_ARGISNULL(1))
	{
		seconds = PG_GETARG_INT32(1);
		if (seconds < 0 || seconds > DEDUP_MAX_WINDOW)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("seconds must be between 0 and %d (14 days), got %d",
							DEDUP_MAX_WINDOW, seconds),
					 errhint("0 or NULL turns deduplication off.")));
	}
	if (!OidIsValid(pgmq_relid("dedup_settings")))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("deduplication needs pgmq 1.13.1"),
				 errhint("Run ALTER EXTENSION pgmq UPDATE.")));
	/* wait for sends in progress, keep new ones out until we commit */
	(void) pgmq_open_named(&q, ShareRowExclusiveLock, false);
	dtable = pgmq_qualified_table("d", q.name);
	values[0] = CStringGetTextDatum(q.name);
	values[1] = Int32GetDatum(seconds);

	pgmq_connect();
	if (seconds == 0)
	{
		pgmq_run_sql("DELETE FROM pgmq.dedup_settings WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
					 SPI_OK_DELETE, 1, types, values, NULL);
		drop_dedup_table(&q, dtable);
	}
	else
	{
		pgmq_run_sql("SELECT 1 FROM pgmq.dedup_settings WHERE queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$1"),
					 SPI_OK_SELECT, 1, types, values, NULL);
		/* no window yet: start from an empty table (drops one left by a restore) */
		if (SPI_processed == 0)
			create_dedup_table(&q, dtable);
		copy_grants(q.qrelid, dtable);
		pgmq_run_sql("INSERT INTO pgmq.dedup_settings AS s (queue_name, window_seconds)"
					 " VALUES (" PGMQ_META_NAME("$1") ", $2) ON CONFLICT (queue_name) DO UPDATE"
					 " SET window_seconds = EXCLUDED.window_seconds",
					 SPI_OK_INSERT, 2, types, values, NULL);
	}
	pgmq_finish();
	/* every backend looks the window up again */
	CacheInvalidateRelcacheByRelid(q.qrelid);
	PG_RETURN_VOID();
}
