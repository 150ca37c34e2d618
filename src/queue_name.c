/*
 * queue_name.c
 *	  Queue name rules and the table names built from them.
 *
 * A queue name is 1 to PGMQ_MAX_NAME_LEN characters of ASCII letters, digits,
 * '_' and '-'.  Names are case-insensitive and case-preserving:
 *	- every name is folded to lower case here, before any SQL or catalog
 *	  lookup sees it, so "MyQ" and "myq" are one queue with one meta row and
 *	  one pair of tables, pgmq.q_myq and pgmq.a_myq (the PL/pgSQL pgmq names
 *	  its tables after the lower-cased name too);
 *	- pgmq.meta keeps the name as the create call spelled it, and every
 *	  function that returns a queue name returns that one.  The rows of
 *	  topic_bindings, notify_insert_throttle and the dead-letter tables
 *	  reference it (foreign keys), so SQL finds them through
 *	  PGMQ_META_NAME(lower-cased name) (pgmq.h), which the unique index
 *	  pgmq.meta_queue_name_lower_key answers.
 * Nothing outside this file builds a table name, and every name leaves it
 * quoted and schema-qualified.
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/namespace.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "name_rules.h"
#include "pgmq.h"

/* Whether name has one of the sequences the PL/pgSQL pgmq 1.11 refuses ($ ; -- '). */
static bool
refused_by_1_11(const char *name)
{
	return strpbrk(name, "$;'") != NULL || strstr(name, "--") != NULL;
}

/*
 * Check a queue name and write its lower-cased form to out (NAMEDATALEN
 * bytes).  The rule itself is pgmq_name_check() (name_rules.c).  Where
 * pgmq 1.11 raised for the same name (too long; $ ; -- or ') the error is
 * its P0001, so clients that catch it keep working; names only we refuse
 * (empty, other characters) get class 42.
 */
void
pgmq_check_name(const char *name, char *out)
{
	switch (pgmq_name_check(name, strlen(name), out))
	{
		case PGMQ_NAME_OK:
			return;
		case PGMQ_NAME_EMPTY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("queue name cannot be empty")));
			break;
		case PGMQ_NAME_TOO_LONG:
			/* 1.11 counts characters: fewer multibyte ones are only bad characters */
			if (pg_mbstrlen(name) > PGMQ_MAX_NAME_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_RAISE_EXCEPTION),
						 errmsg("queue name is too long, maximum length is %d characters",
								PGMQ_MAX_NAME_LEN)));
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid queue name \"%s\"", name),
					 errdetail("Queue names may contain only ASCII letters, digits, \"_\" and \"-\".")));
			break;
		default:
			ereport(ERROR,
					(errcode(refused_by_1_11(name) ? ERRCODE_RAISE_EXCEPTION : ERRCODE_INVALID_NAME),
					 errmsg("invalid queue name \"%s\"", name),
					 errdetail("Queue names may contain only ASCII letters, digits, \"_\" and \"-\".")));
			break;
	}
}

/*
 * Fetch text argument argno as a queue name: refuse NULL, check it, and
 * return the lower-cased name (written to out).
 */
char *
pgmq_name_arg(FunctionCallInfo fcinfo, int argno, char *out)
{
	char	   *raw;

	pgmq_require_arg(fcinfo, argno, "queue_name");
	raw = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	pgmq_check_name(raw, out);
	pfree(raw);
	return out;
}

/*
 * Like pgmq_name_arg, and also copy the argument as given (the case pgmq.meta
 * keeps) to as_given (NAMEDATALEN bytes).
 */
char *
pgmq_name_arg_as_given(FunctionCallInfo fcinfo, int argno, char *out, char *as_given)
{
	char	   *raw;

	pgmq_require_arg(fcinfo, argno, "queue_name");
	raw = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	pgmq_check_name(raw, out);
	strlcpy(as_given, raw, NAMEDATALEN);
	pfree(raw);
	return out;
}

/*
 * pgmq_open_queue for the functions where pgmq 1.11 checks that the queue
 * exists itself (bind_topic, enable_notify_insert, update_notify_insert):
 * an unknown queue is its P0001, not our 42P01, so clients that catch the
 * one they know keep working.
 */
void
pgmq_open_queue_checked(FunctionCallInfo fcinfo, int argno, LOCKMODE mode, PgmqQueue *q)
{
	pgmq_name_arg(fcinfo, argno, q->name);
	if (!pgmq_open_named(q, mode, true))
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("queue \"%s\" does not exist", q->name),
				 errhint("Create the queue first using pgmq.create().")));
}

/* "q_<name>": the unquoted table name for prefix ("q" or "a") and a checked name. */
char *
pgmq_table_name(const char *prefix, const char *name)
{
	return psprintf("%s_%s", prefix, name);
}

/* pgmq."q_<name>": quoted and schema-qualified, ready to paste into SQL. */
char *
pgmq_qualified_table(const char *prefix, const char *name)
{
	return quote_qualified_identifier("pgmq", pgmq_table_name(prefix, name));
}

/* OID of schema pgmq. */
Oid
pgmq_namespace_oid(bool missing_ok)
{
	return get_namespace_oid("pgmq", missing_ok);
}

/*
 * OID of pgmq.q_<name>_<suffix> when it is an index of table relid (the
 * opt-in indexes: fifo_idx, prio_idx), else InvalidOid.
 */
Oid
pgmq_queue_index_oid(const char *name, const char *suffix, Oid relid)
{
	char	   *idxname = psprintf("q_%s_%s", name, suffix);
	Oid			idx = get_relname_relid(idxname, pgmq_namespace_oid(false));

	pfree(idxname);
	return OidIsValid(idx) && IndexGetRelation(idx, true) == relid ? idx : InvalidOid;
}

/* OID of pgmq.<prefix>_<name>, or InvalidOid when there is no such table. */
Oid
pgmq_table_oid(const char *prefix, const char *name)
{
	Oid			nsp = pgmq_namespace_oid(true);
	char	   *relname;
	Oid			relid;

	if (!OidIsValid(nsp))
		return InvalidOid;
	relname = pgmq_table_name(prefix, name);
	relid = get_relname_relid(relname, nsp);
	pfree(relname);
	return relid;
}
