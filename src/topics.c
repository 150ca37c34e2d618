/*
 * topics.c
 *	  Topic routing (AMQP topic exchange style): bind_topic, unbind_topic,
 *	  send_topic, send_batch_topic, test_routing, list_topic_bindings and the
 *	  validators validate_routing_key / validate_topic_pattern.
 *
 * Bindings live in pgmq.topic_bindings (pattern, queue_name, bound_at,
 * compiled_regex); queue_name references pgmq.meta ON DELETE CASCADE, so
 * drop_queue removes a queue's bindings with its meta row.
 *
 * The rules (what a valid key or pattern is, and whether a key matches a
 * pattern) are pure C in routing.c; this file wraps them with PostgreSQL
 * errors.  An invalid routing key or pattern is SQLSTATE 22023
 * (invalid_parameter_value): it is a value handed to a function, not a name
 * of an object.
 *
 * Sending to a topic: one kept plan reads every binding, each pattern is
 * matched in C against the routing key (no regex compilation, no regex
 * cache to thrash), the matches are sorted by queue name, and every distinct
 * matching queue gets the message(s) through send.c's kept INSERT plan.
 * Queues are opened in name order, all in the caller's statement, so a topic
 * send is atomic: every queue gets the message or, on any error, none does.
 * A queue with a deduplication window gets messages carrying x-pgmq-dedup-id
 * through dedup.c instead (pgmq_dedup_applies(): one cached test for a queue
 * without a window), so the id is remembered per queue, shared with send,
 * and a bad id aborts the whole topic send.
 * compiled_regex is stored for users and for test_routing's output; the
 * matcher and the regex agree on every valid key (test/unit/routing_test.c).
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pgmq.h"
#include "routing.h"

PG_FUNCTION_INFO_V1(pgmq_validate_routing_key);
PG_FUNCTION_INFO_V1(pgmq_validate_topic_pattern);
PG_FUNCTION_INFO_V1(pgmq_bind_topic);
PG_FUNCTION_INFO_V1(pgmq_unbind_topic);
PG_FUNCTION_INFO_V1(pgmq_test_routing);
PG_FUNCTION_INFO_V1(pgmq_list_topic_bindings);
PG_FUNCTION_INFO_V1(pgmq_list_topic_bindings_queue);
PG_FUNCTION_INFO_V1(pgmq_send_topic);
PG_FUNCTION_INFO_V1(pgmq_send_topic_delay);
PG_FUNCTION_INFO_V1(pgmq_send_topic_headers_delay);
PG_FUNCTION_INFO_V1(pgmq_send_batch_topic);
PG_FUNCTION_INFO_V1(pgmq_send_batch_topic_delay);
PG_FUNCTION_INFO_V1(pgmq_send_batch_topic_at);
PG_FUNCTION_INFO_V1(pgmq_send_batch_topic_headers);
PG_FUNCTION_INFO_V1(pgmq_send_batch_topic_headers_delay);
PG_FUNCTION_INFO_V1(pgmq_send_batch_topic_headers_at);

/*
 * Every binding, read on every topic send (a kept plan of plan_cache.c).
 * No ORDER BY: sorting all the rows cost more than the scan; only the
 * matches are sorted, in C.
 */
static const PgmqPlanSpec bindings_spec = {
	"SELECT pattern, queue_name::pg_catalog.text, compiled_regex"
	" FROM pgmq.topic_bindings",
	0, {InvalidOid}
};

/* Columns of a row of the bindings plan. */
#define BINDING_PATTERN 1
#define BINDING_QUEUE 2

/* A binding that matched, with its row in SPI_tuptable. */
typedef struct Match
{
	const char *queue;			/* queue name (SPI memory) */
	const char *pattern;		/* pattern (SPI memory) */
	uint64		row;
} Match;

/* A NULL or empty text argument argno: pgmq 1.11's error (P0001). */
static void
require_text(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(argno)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("%s cannot be NULL or empty", what)));
}

/*
 * Text argument argno as a checked routing key (NUL-terminated copy).
 * NULL is 22004, an invalid key 22023 with the reason.
 */
static char *
routing_key_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *key;
	const char *why;

	require_text(fcinfo, argno, "routing_key");
	key = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!pgmq_routing_key_check(key, strlen(key), &why))
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),	/* P0001, as pgmq 1.11 */
				 errmsg("invalid routing key \"%s\": %s", key, why),
				 errhint("A routing key is 1 to %d characters: words of ASCII letters, digits, \"_\" and \"-\" separated by single dots.",
						 PGMQ_ROUTING_MAX_LEN)));
	return key;
}

/* Text argument argno as a checked topic pattern (NUL-terminated copy). */
static char *
pattern_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *pattern;
	const char *why;

	require_text(fcinfo, argno, "pattern");
	pattern = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (!pgmq_topic_pattern_check(pattern, strlen(pattern), &why))
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),	/* P0001, as pgmq 1.11 */
				 errmsg("invalid topic pattern \"%s\": %s", pattern, why),
				 errhint("A pattern is a routing key in which a word may also be \"*\" (exactly one word) or \"#\" (zero or more words).")));
	return pattern;
}

/* The regular expression stored for a checked pattern, as a text Datum. */
static Datum
pattern_regex_datum(const char *pattern)
{
	char		buf[PGMQ_ROUTING_REGEX_SIZE];
	size_t		n = pgmq_topic_pattern_regex(pattern, strlen(pattern), buf, sizeof(buf));

	if (n >= sizeof(buf))
		elog(ERROR, "pgmq: regular expression of pattern \"%s\" does not fit", pattern);
	return CStringGetTextDatum(buf);
}

/* Order matches by queue name, then pattern, byte-wise (collation "C"). */
static int
match_cmp(const void *a, const void *b)
{
	const Match *x = (const Match *) a;
	const Match *y = (const Match *) b;
	int			c = strcmp(x->queue, y->queue);

	return c != 0 ? c : strcmp(x->pattern, y->pattern);
}

/*
 * Read every binding with the kept plan (SPI connected) and return the ones
 * key matches, sorted by queue then pattern; *nmatches gets their number.
 * The rows stay in SPI_tuptable, the array in SPI memory.
 */
static Match *
match_bindings(const char *key, int *nmatches)
{
	size_t		klen = strlen(key);
	Match	   *matches = NULL;
	int			n = 0;
	uint64		i;
	int			rc;

	rc = SPI_execute_plan(pgmq_global_plan(&bindings_spec), NULL, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pgmq: reading topic bindings failed: %s",
			 SPI_result_code_string(rc));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, BINDING_PATTERN, &isnull);
		text	   *pattern;

		if (isnull)
			continue;
		pattern = DatumGetTextPP(d);
		if (!pgmq_topic_match(VARDATA_ANY(pattern), VARSIZE_ANY_EXHDR(pattern),
							  key, klen))
			continue;
		if (matches == NULL)
			matches = palloc(sizeof(Match) * SPI_processed);
		matches[n].queue = SPI_getvalue(tup, desc, BINDING_QUEUE);
		matches[n].pattern = text_to_cstring(pattern);
		matches[n].row = i;
		if (matches[n].queue != NULL)
			n++;
	}
	if (n > 1)
		qsort(matches, n, sizeof(Match), match_cmp);
	*nmatches = n;
	return matches;
}

/* pgmq.validate_routing_key(routing_key text) RETURNS boolean */
Datum
pgmq_validate_routing_key(PG_FUNCTION_ARGS)
{
	(void) routing_key_arg(fcinfo, 0);
	PG_RETURN_BOOL(true);
}

/* pgmq.validate_topic_pattern(pattern text) RETURNS boolean */
Datum
pgmq_validate_topic_pattern(PG_FUNCTION_ARGS)
{
	(void) pattern_arg(fcinfo, 0);
	PG_RETURN_BOOL(true);
}

/* pgmq.bind_topic(pattern text, queue_name text) RETURNS void; idempotent */
Datum
pgmq_bind_topic(PG_FUNCTION_ARGS)
{
	char	   *pattern = pattern_arg(fcinfo, 0);
	PgmqQueue	q;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	require_text(fcinfo, 1, "queue_name");
	pgmq_open_queue_checked(fcinfo, 1, AccessShareLock, &q);
	values[0] = CStringGetTextDatum(pattern);
	values[1] = CStringGetTextDatum(q.name);
	values[2] = pattern_regex_datum(pattern);
	pgmq_connect();
	pgmq_run_sql("INSERT INTO pgmq.topic_bindings (pattern, queue_name, compiled_regex)"
				 " VALUES ($1, " PGMQ_META_NAME("$2") ", $3)"
				 " ON CONFLICT (pattern, queue_name) DO NOTHING",
				 SPI_OK_INSERT, 3, types, values, NULL);
	pgmq_finish();
	PG_RETURN_VOID();
}

/*
 * pgmq.unbind_topic(pattern text, queue_name text) RETURNS boolean: false
 * when there was no such binding.  The pattern is not checked against the
 * rules, so any stored row can be removed.
 */
Datum
pgmq_unbind_topic(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	uint64		n;

	require_text(fcinfo, 0, "pattern");
	require_text(fcinfo, 1, "queue_name");
	/* as in pgmq 1.11, no binding of an unknown queue to remove: false */
	pgmq_name_arg(fcinfo, 1, q.name);
	if (!pgmq_open_named(&q, AccessShareLock, true))
		PG_RETURN_BOOL(false);
	values[0] = PG_GETARG_DATUM(0);
	values[1] = CStringGetTextDatum(q.name);
	pgmq_connect();
	pgmq_run_sql("DELETE FROM pgmq.topic_bindings"
				 " WHERE pattern OPERATOR(pg_catalog.=) $1"
				 " AND queue_name OPERATOR(pg_catalog.=) " PGMQ_META_NAME("$2"),
				 SPI_OK_DELETE, 2, types, values, NULL);
	n = SPI_processed;
	pgmq_finish();
	PG_RETURN_BOOL(n > 0);
}

/*
 * pgmq.test_routing(routing_key text)
 *	  RETURNS TABLE(pattern text, queue_name text, compiled_regex text)
 * The bindings a send_topic with this key would use, sending nothing.
 */
Datum
pgmq_test_routing(PG_FUNCTION_ARGS)
{
	char	   *key = routing_key_arg(fcinfo, 0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Match	   *matches;
	int			n;
	int			i;

	pgmq_init_srf(fcinfo);
	pgmq_connect();
	matches = match_bindings(key, &n);
	for (i = 0; i < n; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[matches[i].row]);
	pgmq_finish();
	return (Datum) 0;
}

/* list_topic_bindings with an optional queue (NULL name: every binding). */
static Datum
list_bindings(FunctionCallInfo fcinfo, const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	pgmq_init_srf(fcinfo);
	pgmq_connect();
	if (name == NULL)
		pgmq_run_sql("SELECT pattern, queue_name::pg_catalog.text, bound_at, compiled_regex"
					 " FROM pgmq.topic_bindings"
					 " ORDER BY bound_at DESC, pattern COLLATE pg_catalog.\"C\","
					 " queue_name COLLATE pg_catalog.\"C\"",
					 SPI_OK_SELECT, 0, NULL, NULL, NULL);
	else
	{
		values[0] = CStringGetTextDatum(name);
		pgmq_run_sql("SELECT pattern, queue_name::pg_catalog.text, bound_at, compiled_regex"
					 " FROM pgmq.topic_bindings WHERE queue_name OPERATOR(pg_catalog.=) "
					 PGMQ_META_NAME("$1")
					 " ORDER BY bound_at DESC, pattern COLLATE pg_catalog.\"C\"",
					 SPI_OK_SELECT, 1, types, values, NULL);
	}
	pgmq_emit_rows(fcinfo);
	pgmq_finish();
	return (Datum) 0;
}

/*
 * pgmq.list_topic_bindings()
 *	  RETURNS TABLE(pattern text, queue_name text, bound_at timestamptz, compiled_regex text)
 */
Datum
pgmq_list_topic_bindings(PG_FUNCTION_ARGS)
{
	return list_bindings(fcinfo, NULL);
}

/* pgmq.list_topic_bindings(queue_name text): the bindings of one queue */
Datum
pgmq_list_topic_bindings_queue(PG_FUNCTION_ARGS)
{
	PgmqQueue	q;

	pgmq_open_queue(fcinfo, 0, AccessShareLock, &q);
	return list_bindings(fcinfo, q.name);
}

/*
 * Send the message(s) of a to every queue bound to routing_key: returns the
 * number of queues sent to, and with emit (send_batch_topic) puts a
 * (queue_name, msg_id) row per message into the caller's tuplestore.  A
 * queue with a deduplication window takes the messages that carry
 * x-pgmq-dedup-id through dedup.c, as send does: a duplicate inserts
 * nothing there, still counts the queue as sent to and comes back with the
 * original msg_id.
 */
static int
send_to_topic(FunctionCallInfo fcinfo, const char *key, PgmqSendArgs *a, bool emit)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller_cxt = CurrentMemoryContext;
	PgmqQueue  *queues = NULL;
	char	  **shown = NULL;		/* each queue's name as pgmq.meta spells it */
	Match	   *matches;
	int			nmatches;
	int			nqueues = 0;
	int			sent = 0;
	uint64		i;
	int			k;

	pgmq_connect();
	matches = match_bindings(key, &nmatches);

	/* distinct matching queues, in name order (bindings have meta's spelling) */
	for (k = 0; k < nmatches; k++)
	{
		if (queues == NULL)
		{
			queues = MemoryContextAlloc(caller_cxt, sizeof(PgmqQueue) * nmatches);
			shown = MemoryContextAlloc(caller_cxt, sizeof(char *) * nmatches);
		}
		pgmq_check_name(matches[k].queue, queues[nqueues].name);
		if (nqueues > 0 && strcmp(queues[nqueues - 1].name, queues[nqueues].name) == 0)
			continue;
		shown[nqueues] = MemoryContextStrdup(caller_cxt, matches[k].queue);
		nqueues++;
	}

	/* the bindings' rows are no longer needed: SPI_tuptable is reused below */
	for (k = 0; k < nqueues; k++)
	{
		PgmqQueue  *q = &queues[k];
		uint64		nids;
		int64	   *ids;

		/* a queue dropped since the bindings were read took its bindings along */
		if (!pgmq_open_named(q, RowExclusiveLock, true))
		{
			q->qrelid = InvalidOid;
			continue;
		}
		/* checks and notes of send: priorities' header, retention's worker */
		pgmq_priority_check_send(q, a);
		pgmq_retention_note_send(q);
		/* a queue with a window and a message with an id: as send does */
		if (pgmq_dedup_applies(q, a))
			ids = pgmq_dedup_send(q, a, &nids);
		else
		{
			ids = NULL;
			nids = pgmq_send_to_queue(q, a);
		}
		sent++;
		if (!emit)
			continue;
		for (i = 0; i < nids; i++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};

			values[0] = CStringGetTextDatum(shown[k]);
			if (ids != NULL)
				values[1] = Int64GetDatum(ids[i]);
			else
				values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
										  1, &nulls[1]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	pgmq_finish();

	for (k = 0; k < nqueues; k++)
	{
		if (OidIsValid(queues[k].qrelid))
			pgmq_wakeup_note_send(&queues[k]);
	}
	return sent;
}

/* send_topic(routing_key, msg [, headers] [, delay integer]) */
static Datum
send_topic(FunctionCallInfo fcinfo, int headers_arg, PgmqDelayKind kind, int delay_arg)
{
	char	   *key = routing_key_arg(fcinfo, 0);
	PgmqSendArgs a;

	/* pgmq 1.11's checks and errors (P0001) for send_topic */
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("msg cannot be NULL")));
	if (kind == PGMQ_DELAY_SECONDS && !PG_ARGISNULL(delay_arg) && PG_GETARG_INT32(delay_arg) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_RAISE_EXCEPTION),
				 errmsg("delay cannot be negative, got: %d", PG_GETARG_INT32(delay_arg))));
	pgmq_send_message_args(fcinfo, false, headers_arg, &a);
	a.vt = pgmq_send_visible_at(fcinfo, kind, delay_arg);
	PG_RETURN_INT32(send_to_topic(fcinfo, key, &a, false));
}

/* send_batch_topic(routing_key, msgs [, headers] [, delay]) */
static Datum
send_batch_topic(FunctionCallInfo fcinfo, int headers_arg, PgmqDelayKind kind, int delay_arg)
{
	char	   *key;
	PgmqSendArgs a;

	pgmq_init_srf(fcinfo);
	key = routing_key_arg(fcinfo, 0);
	pgmq_send_message_args(fcinfo, true, headers_arg, &a);
	a.vt = pgmq_send_visible_at(fcinfo, kind, delay_arg);
	(void) send_to_topic(fcinfo, key, &a, true);
	return (Datum) 0;
}

/* pgmq.send_topic(routing_key text, msg jsonb) RETURNS integer */
Datum
pgmq_send_topic(PG_FUNCTION_ARGS)
{
	return send_topic(fcinfo, -1, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send_topic(routing_key text, msg jsonb, delay integer) RETURNS integer */
Datum
pgmq_send_topic_delay(PG_FUNCTION_ARGS)
{
	return send_topic(fcinfo, -1, PGMQ_DELAY_SECONDS, 2);
}

/* pgmq.send_topic(routing_key text, msg jsonb, headers jsonb, delay integer) */
Datum
pgmq_send_topic_headers_delay(PG_FUNCTION_ARGS)
{
	return send_topic(fcinfo, 2, PGMQ_DELAY_SECONDS, 3);
}

/*
 * pgmq.send_batch_topic(routing_key text, msgs jsonb[])
 *	  RETURNS TABLE(queue_name text, msg_id bigint)
 */
Datum
pgmq_send_batch_topic(PG_FUNCTION_ARGS)
{
	return send_batch_topic(fcinfo, -1, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send_batch_topic(routing_key text, msgs jsonb[], delay integer) */
Datum
pgmq_send_batch_topic_delay(PG_FUNCTION_ARGS)
{
	return send_batch_topic(fcinfo, -1, PGMQ_DELAY_SECONDS, 2);
}

/* pgmq.send_batch_topic(routing_key text, msgs jsonb[], delay timestamptz) */
Datum
pgmq_send_batch_topic_at(PG_FUNCTION_ARGS)
{
	return send_batch_topic(fcinfo, -1, PGMQ_DELAY_AT, 2);
}

/* pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[]) */
Datum
pgmq_send_batch_topic_headers(PG_FUNCTION_ARGS)
{
	return send_batch_topic(fcinfo, 2, PGMQ_DELAY_NONE, -1);
}

/* pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[], delay integer) */
Datum
pgmq_send_batch_topic_headers_delay(PG_FUNCTION_ARGS)
{
	return send_batch_topic(fcinfo, 2, PGMQ_DELAY_SECONDS, 3);
}

/* pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[], delay timestamptz) */
Datum
pgmq_send_batch_topic_headers_at(PG_FUNCTION_ARGS)
{
	return send_batch_topic(fcinfo, 2, PGMQ_DELAY_AT, 3);
}
