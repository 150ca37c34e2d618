/*
 * fifo_index.c
 *	  The fifo index of a queue, q_<name>_fifo_idx on (group key, msg_id),
 *	  which grouped reads (fifo.c, fifo_head.c) use to find each group's head
 *	  with one probe per group: whether a queue has it, and
 *	  pgmq.create_fifo_index / pgmq.create_fifo_indexes_all.  Opt-in: every
 *	  other queue would pay an index write per send and read.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg_compat.h"
#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_create_fifo_index);
PG_FUNCTION_INFO_V1(pgmq_create_fifo_indexes_all);

/* Name of the fifo index of queue name (unquoted). */
static char *
fifo_index_name(const char *name)
{
	return psprintf("q_%s_fifo_idx", name);
}

/* Whether open queue q has its fifo index (cached until invalidated). */
bool
pgmq_fifo_has_index(PgmqQueue *q)
{
	PgmqQueueState *st = pgmq_queue_state(q);

	if (!st->fifo_known)
	{
		st->has_fifo_index = OidIsValid(pgmq_queue_index_oid(q->name, "fifo_idx", q->qrelid));
		st->fifo_known = true;
	}
	return st->has_fifo_index;
}

/*
 * Create the fifo index of open queue q unless it has it; connected to SPI.
 * The caller holds ShareLock on the table, which CREATE INDEX takes anyway.
 */
static void
create_fifo_index(PgmqQueue *q)
{
	char	   *idx;

	if (pgmq_fifo_has_index(q))
		return;
	idx = fifo_index_name(q->name);
	pgmq_run_sql(psprintf("CREATE INDEX %s ON %s ((" PGMQ_GROUP("") "), msg_id)",
						  quote_identifier(idx), pgmq_qualified_table("q", q->name)),
				 SPI_OK_UTILITY, 0, NULL, NULL, NULL);
	pfree(idx);
}

/*
 * Decide, before any lock, whether create_fifo_index has work to do on the
 * queue whose checked name is in q->name, and if so open it in ShareLock.
 * Only the table's owner may create an index, as CREATE INDEX checks
 * ownership before it locks; anyone else learns from the catalog alone that
 * the index exists (success, no lock: a lock held to the end of the
 * caller's transaction would block every send and read) or gets "must be
 * owner".  Returns false when there is nothing to do (index there, or with
 * missing_ok, no such queue).
 */
static bool
open_for_fifo_index(PgmqQueue *q, bool missing_ok)
{
	Oid			relid = pgmq_table_oid("q", q->name);

	if (!OidIsValid(relid))
	{
		if (missing_ok)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("queue \"%s\" does not exist", q->name)));
	}
	if (!pgmq_rel_ownercheck(relid, GetUserId()))
	{
		if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT | ACL_INSERT |
							  ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
		if (OidIsValid(pgmq_queue_index_oid(q->name, "fifo_idx", relid)))
			return false;
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(relid));
	}
	return pgmq_open_named(q, ShareLock, missing_ok);
}

/* pgmq.create_fifo_index(queue_name text) RETURNS void */
Datum
pgmq_create_fifo_index(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;

	pgmq_name_arg(fcinfo, 0, q.name);
	if (!open_for_fifo_index(&q, false))
		PG_RETURN_VOID();
	pgmq_connect();
	create_fifo_index(&q);
	pgmq_finish();
	PG_RETURN_VOID();
}

/*
 * create_fifo_indexes_all: one queue, open in AccessShareLock (which blocks
 * no send or read).  A queue that has its index is done; otherwise only the
 * table's owner may create it (CREATE INDEX takes its ShareLock then).
 */
static void
create_fifo_index_visit(PgmqQueue *q, void *arg)
{
	if (pgmq_fifo_has_index(q))
		return;
	if (!pgmq_rel_ownercheck(q->qrelid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, get_rel_name(q->qrelid));
	create_fifo_index(q);
}

/* pgmq.create_fifo_indexes_all() RETURNS void: create_fifo_index for every queue */
Datum
pgmq_create_fifo_indexes_all(PG_FUNCTION_ARGS)
{
	pgmq_connect();
	pgmq_foreach_queue(AccessShareLock, create_fifo_index_visit, NULL);
	pgmq_finish();
	PG_RETURN_VOID();
}
