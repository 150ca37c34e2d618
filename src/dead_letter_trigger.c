/*
 * dead_letter_trigger.c
 *	  The triggers on the dead-letter tables: policy changes reach every
 *	  backend's cached policy, and the counts of moves are written only by
 *	  roles that may move, and only upwards.
 *
 * pgmq.dead_letter_policy has a row trigger (AFTER INSERT OR UPDATE OR
 * DELETE, also fired by the cascades from dropping a queue) that
 * invalidates the relcache entry of the source queue's table, which clears
 * the policy cached in every backend's plan-cache entry; and a statement
 * trigger AFTER TRUNCATE (which fires no row trigger) that invalidates every
 * relcache entry, so no cached policy survives a TRUNCATE.
 *
 * A policy decides where a queue's messages may go, so its BEFORE INSERT OR
 * UPDATE row trigger lets only the owner of the source queue's table (or a
 * superuser) write it: the grants on pgmq.dead_letter_policy (the extension
 * owner's) alone would let a role send another role's poison messages to a
 * queue it reads.
 *
 * pgmq.dead_letter_counts is written by readers with their own rights (see
 * dead_letter_move.c): everyone has INSERT and UPDATE (moved) on it, and its
 * BEFORE INSERT OR UPDATE row trigger refuses a row unless the caller may
 * DELETE from the queue's table (moving a message needs that anyway) and
 * the count does not go down or below zero.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "pg_compat.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/rel.h"

#include "dead_letter.h"

PG_FUNCTION_INFO_V1(pgmq_dead_letter_policy_changed);
PG_FUNCTION_INFO_V1(pgmq_dead_letter_counts_check);
PG_FUNCTION_INFO_V1(pgmq_dead_letter_policy_check);

/* Invalidate the relcache entry of the queue named in column 1 of tuple. */
static void
invalidate_source_queue(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		name = heap_getattr(tuple, 1, desc, &isnull);
	char		checked[NAMEDATALEN];
	Oid			relid;

	if (isnull ||
		!pgmq_name_from_table(TextDatumGetCString(name), "pgmq.dead_letter_policy", checked))
		return;
	relid = pgmq_table_oid("q", checked);
	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
}

/*
 * Trigger on pgmq.dead_letter_policy: AFTER INSERT OR UPDATE OR DELETE FOR
 * EACH ROW (the source queue's cached policy goes), or AFTER TRUNCATE FOR
 * EACH STATEMENT (every cached policy goes).
 */
Datum
pgmq_dead_letter_policy_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pgmq: dead_letter_policy_changed must be an AFTER trigger")));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		CacheInvalidateRelcacheAll();
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pgmq: dead_letter_policy_changed must be a row trigger, or a TRUNCATE trigger")));
	desc = RelationGetDescr(td->tg_relation);
	invalidate_source_queue(td->tg_trigtuple, desc);
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		invalidate_source_queue(td->tg_newtuple, desc);
	return PointerGetDatum(NULL);	/* AFTER trigger: ignored */
}

/* Column attname of tuple as int64 (NULL: error). */
static int64
int8_column(HeapTuple tuple, TupleDesc desc, const char *attname)
{
	int			att = SPI_fnumber(desc, attname);
	bool		isnull;
	Datum		d;

	if (att <= 0)
		elog(ERROR, "pgmq: pgmq.dead_letter_counts has no column \"%s\"", attname);
	d = heap_getattr(tuple, att, desc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("%s cannot be NULL", attname)));
	return DatumGetInt64(d);
}

/*
 * Common start of the BEFORE INSERT OR UPDATE row triggers below: checks how
 * the trigger was fired, reads the queue name (column 1) of the new row into
 * checked (NAMEDATALEN) and the OID of its queue table into *relid.  Returns
 * the new row.
 */
static HeapTuple
queue_row_of_trigger(FunctionCallInfo fcinfo, const char *trigger,
					 char *checked, Oid *relid)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	newtup;
	bool		isnull;
	Datum		name;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pgmq: %s must be a BEFORE INSERT OR UPDATE row trigger", trigger)));
	newtup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	name = heap_getattr(newtup, 1, RelationGetDescr(td->tg_relation), &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("queue_name cannot be NULL")));
	pgmq_check_name(TextDatumGetCString(name), checked);
	*relid = pgmq_table_oid("q", checked);
	if (!OidIsValid(*relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("queue \"%s\" does not exist", checked)));
	return newtup;
}

/*
 * Trigger on pgmq.dead_letter_counts, BEFORE INSERT OR UPDATE FOR EACH ROW:
 * the caller must be allowed to DELETE from the queue's table, and a count
 * never goes below zero or down.
 */
Datum
pgmq_dead_letter_counts_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	newtup;
	char		checked[NAMEDATALEN];
	Oid			relid;
	int64		moved;

	newtup = queue_row_of_trigger(fcinfo, "dead_letter_counts_check", checked, &relid);
	desc = RelationGetDescr(td->tg_relation);
	if (pg_class_aclcheck(relid, GetUserId(), ACL_DELETE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to count dead letters of queue \"%s\"", checked),
				 errdetail("Only a role that may DELETE from pgmq.q_%s may add to its count.",
						   checked)));

	moved = int8_column(newtup, desc, "moved");
	if (moved < 0 ||
		(TRIGGER_FIRED_BY_UPDATE(td->tg_event) &&
		 moved < int8_column(td->tg_trigtuple, desc, "moved")))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the dead-letter count of queue \"%s\" can only go up", checked)));
	return PointerGetDatum(newtup);
}

/*
 * Trigger on pgmq.dead_letter_policy, BEFORE INSERT OR UPDATE FOR EACH ROW:
 * only the owner of the source queue's table may set where its dead letters
 * go.
 */
Datum
pgmq_dead_letter_policy_check(PG_FUNCTION_ARGS)
{
	HeapTuple	newtup;
	char		checked[NAMEDATALEN];
	Oid			relid;

	newtup = queue_row_of_trigger(fcinfo, "dead_letter_policy_check", checked, &relid);
	if (!pgmq_rel_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set the dead-letter queue of queue \"%s\"", checked),
				 errdetail("Only the owner of pgmq.q_%s may.", checked)));
	return PointerGetDatum(newtup);
}
