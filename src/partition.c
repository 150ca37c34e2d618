/*
 * partition.c
 *	  Partitioned queues through pg_partman: pgmq.create_partitioned,
 *	  pgmq.convert_archive_partitioned, and the partman clean-up drop_queue
 *	  runs (pgmq_partman_forget).
 *
 * A partitioned queue is a q_<name> / a_<name> pair of range-partitioned
 * tables whose children pg_partman creates and retires.  An integer
 * partition_interval partitions both tables by msg_id; anything else is a
 * time interval and partitions q_ by enqueued_at and a_ by archived_at.  The
 * message path does not know the difference: every plan of send.c,
 * consume.c and ack.c runs unchanged against the partitioned parent, because
 * the parent carries what those plans need:
 *	- msg_id identity on the parent (children have none; rows always go in
 *	  through the parent);
 *	- a primary key that starts with msg_id (a key must include the
 *	  partition column, so it is (msg_id) or (msg_id, <time column>)), which
 *	  every child inherits and which serves the msg_id lookups of delete,
 *	  archive and set_vt;
 *	- the (vt, msg_id) read index q_<name>_vt_idx, a partitioned index, so
 *	  every child has it and reads become a merge of per-child index scans.
 *
 * pg_partman is found through pg_extension, whatever schema it lives in, and
 * called with named arguments (create_parent's p_type is 'native' in 4.x,
 * 'range' from 5.0 on).  Its configuration rows name tables as unquoted
 * 'pgmq.q_<name>', the form it builds itself.  Queues that are not
 * partitioned never touch pg_partman's tables, so roles without privileges
 * there can still create and drop plain queues when pg_partman is installed.
 */
#include "postgres.h"

#include "catalog/pg_class_d.h"
#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "pgmq.h"

PG_FUNCTION_INFO_V1(pgmq_create_partitioned);
PG_FUNCTION_INFO_V1(pgmq_convert_archive_partitioned);

/* How a queue is partitioned, from the interval arguments. */
typedef struct PartSpec
{
	bool		by_id;			/* msg_id ranges, else time ranges */
	char	   *interval;		/* partition_interval as given (trimmed) */
	char	   *retention;		/* retention_interval, NULL = keep everything */
} PartSpec;

/* Where pg_partman lives: quoted schema, and its create_parent p_type. */
typedef struct Partman
{
	char	   *schema;			/* quoted, ready for SQL text */
	const char *type;			/* 'native' (4.x) or 'range' (5.x) */
} Partman;

/* Partman's spellings of time intervals, accepted as they are. */
static const char *const partman_interval_words[] = {
	"yearly", "quarterly", "monthly", "weekly", "daily", "hourly",
	"half-hour", "quarter-hour", NULL
};

/* s without leading and trailing white space (a palloc'd copy). */
static char *
trimmed(const char *s)
{
	const char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		end--;
	return pnstrdup(s, end - s);
}

/* Whether s is a non-empty run of decimal digits. */
static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

/* Check an integer interval argument (what = its name): a positive bigint. */
static void
check_id_interval(const char *s, const char *what)
{
	if (!all_digits(s) || pg_strtoint64(s) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a positive integer when partitioning by msg_id, got \"%s\"",
						what, s),
				 errhint("An integer partition_interval partitions by msg_id, and its retention_interval counts messages too.")));
}

/*
 * Check a time interval argument (what = its name): one of partman's words,
 * or an interval of at least 1 second (at_least_second) or above zero.
 */
static void
check_time_interval(const char *s, const char *what, bool at_least_second)
{
	Interval   *iv;
	Interval	bound;
	int			cmp;
	int			i;

	for (i = 0; partman_interval_words[i] != NULL; i++)
	{
		if (pg_strcasecmp(s, partman_interval_words[i]) == 0)
			return;
	}
	iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
	memset(&bound, 0, sizeof(bound));
	bound.time = at_least_second ? USECS_PER_SEC : 0;
	cmp = DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(iv),
											IntervalPGetDatum(&bound)));
	if (at_least_second ? cmp < 0 : cmp <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s, got \"%s\"", what,
						at_least_second ? "at least 1 second" : "a positive interval", s)));
}

/*
 * Read partition_interval (argument pi) and retention_interval (argument ri)
 * into ps.  The partition interval decides the kind; the retention must be
 * of the same kind.  A NULL retention keeps every partition.
 */
static void
part_spec_args(FunctionCallInfo fcinfo, int pi, int ri, PartSpec *ps)
{
	pgmq_require_arg(fcinfo, pi, "partition_interval");
	ps->interval = trimmed(text_to_cstring(PG_GETARG_TEXT_PP(pi)));
	ps->retention = PG_ARGISNULL(ri) ? NULL :
		trimmed(text_to_cstring(PG_GETARG_TEXT_PP(ri)));

	/* A leading sign or digit-only text is meant as a number of messages. */
	ps->by_id = ps->interval[0] == '-' || ps->interval[0] == '+' ||
		all_digits(ps->interval);
	if (ps->by_id)
	{
		check_id_interval(ps->interval, "partition_interval");
		if (ps->retention != NULL)
			check_id_interval(ps->retention, "retention_interval");
	}
	else
	{
		check_time_interval(ps->interval, "partition_interval", true);
		/* a bare number would read as seconds: surely meant as a count */
		if (ps->retention != NULL && all_digits(ps->retention))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention_interval must be a time interval when partition_interval is one, got \"%s\"",
							ps->retention),
					 errhint("Write the retention with a unit, such as '7 days'.")));
		if (ps->retention != NULL)
			check_time_interval(ps->retention, "retention_interval", false);
	}
}

/*
 * Find pg_partman (connected to SPI).  Returns false when it is not
 * installed in this database.
 */
static bool
find_partman(Partman *pm)
{
	char	   *nsp;
	char	   *version;

	pgmq_run_sql("SELECT n.nspname, e.extversion FROM pg_catalog.pg_extension e"
				 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
				 " WHERE e.extname OPERATOR(pg_catalog.=) 'pg_partman'",
				 SPI_OK_SELECT, 0, NULL, NULL, NULL);
	if (SPI_processed == 0)
		return false;
	nsp = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	version = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	pm->schema = pstrdup(quote_identifier(nsp));
	pm->type = atoi(version) >= 5 ? "range" : "native";
	return true;
}

/* find_partman, or the error every partitioned-queue function gives without it. */
static void
require_partman(Partman *pm)
{
	if (!find_partman(pm))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_partman is required for partitioned queues"),
				 errhint("Install the pg_partman package and run CREATE EXTENSION pg_partman in this database first.")));
}

/* 'pgmq.<prefix>_<name>': how pg_partman names our table in part_config. */
static char *
partman_parent(const char *prefix, const char *name)
{
	return psprintf("pgmq.%s_%s", prefix, name);
}

/* Run one DDL statement. */
static void
ddl(const char *sql)
{
	pgmq_run_sql(sql, SPI_OK_UTILITY, 0, NULL, NULL, NULL);
}

/*
 * Create the partitioned q_ (prefix "q") or a_ (prefix "a") table of a queue
 * with its keys and indexes, but no children yet.
 */
static void
create_parent_table(const char *prefix, const char *name, const PartSpec *ps)
{
	bool		isq = prefix[0] == 'q';
	const char *timecol = isq ? "enqueued_at" : "archived_at";
	const char *keycol = ps->by_id ? "msg_id" : timecol;
	char	   *table = pgmq_qualified_table(prefix, name);

	ddl(psprintf("CREATE TABLE %s ("
				 " msg_id bigint %s,"
				 " read_ct integer NOT NULL DEFAULT 0,"
				 " enqueued_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),"
				 " last_read_at timestamp with time zone,"
				 "%s"
				 " vt timestamp with time zone NOT NULL,"
				 " message pg_catalog.jsonb,"
				 " headers pg_catalog.jsonb,"
				 " PRIMARY KEY (msg_id%s%s)"
				 ") PARTITION BY RANGE (%s)",
				 table,
				 isq ? "GENERATED ALWAYS AS IDENTITY" : "NOT NULL",
				 isq ? "" : " archived_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),",
				 ps->by_id ? "" : ", ", ps->by_id ? "" : timecol,
				 keycol));
	if (isq)
		ddl(psprintf("CREATE INDEX %s ON %s (vt, msg_id)",
					 quote_identifier(psprintf("q_%s_vt_idx", name)), table));
	ddl(psprintf("GRANT SELECT ON %s TO pg_monitor", table));
}

/*
 * Hand parent table prefix_name to pg_partman: create_parent (premake
 * children ahead, from start when it is not NULL), then the retention
 * settings.  For q_ tables, the storage settings of plain queue tables go
 * on the template (so later children get them) and on the children made so
 * far.
 */
static void
partman_manage(const Partman *pm, const char *prefix, const char *name,
			   const PartSpec *ps, int premake, const char *start)
{
	char	   *parent = partman_parent(prefix, name);
	const char *timecol = prefix[0] == 'q' ? "enqueued_at" : "archived_at";
	Oid			types[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	Oid			types2[2] = {TEXTOID, TEXTOID};
	Oid			types6[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID};

	values[0] = CStringGetTextDatum(parent);
	values[1] = CStringGetTextDatum(ps->by_id ? "msg_id" : timecol);
	values[2] = CStringGetTextDatum(pm->type);
	values[3] = CStringGetTextDatum(ps->interval);
	values[4] = Int32GetDatum(premake);
	if (start != NULL)
	{
		values[5] = CStringGetTextDatum(start);
		pgmq_run_sql(psprintf("SELECT %s.create_parent(p_parent_table := $1, p_control := $2,"
							  " p_type := $3, p_interval := $4, p_premake := $5,"
							  " p_start_partition := $6)", pm->schema),
					 SPI_OK_SELECT, 6, types6, values, nulls);
	}
	else
		pgmq_run_sql(psprintf("SELECT %s.create_parent(p_parent_table := $1, p_control := $2,"
							  " p_type := $3, p_interval := $4, p_premake := $5)",
							  pm->schema),
					 SPI_OK_SELECT, 5, types, values, nulls);

	/* Old partitions are dropped, not detached: retention means deletion. */
	if (ps->retention != NULL)
		values[1] = CStringGetTextDatum(ps->retention);
	else
	{
		values[1] = (Datum) 0;
		nulls[1] = 'n';
	}
	pgmq_run_sql(psprintf("UPDATE %s.part_config SET retention = $2,"
						  " retention_keep_table = false, retention_keep_index = false,"
						  " automatic_maintenance = 'on'"
						  " WHERE parent_table OPERATOR(pg_catalog.=) $1", pm->schema),
				 SPI_OK_UPDATE, 2, types2, values, nulls);

	if (prefix[0] == 'q')
	{
		SPITupleTable *tt;
		uint64		n;
		uint64		i;
		Oid			ctypes[2] = {TEXTOID, OIDOID};
		Datum		cvalues[2];

		cvalues[0] = values[0];
		cvalues[1] = ObjectIdGetDatum(pgmq_table_oid(prefix, name));
		pgmq_run_sql(psprintf("SELECT pg_catalog.quote_ident(pg_catalog.split_part(template_table, '.', 1))"
							  " OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||)"
							  " pg_catalog.quote_ident(pg_catalog.split_part(template_table, '.', 2))"
							  " FROM %s.part_config WHERE parent_table OPERATOR(pg_catalog.=) $1"
							  " AND template_table IS NOT NULL"
							  " UNION ALL"
							  " SELECT i.inhrelid::pg_catalog.regclass::pg_catalog.text"
							  " FROM pg_catalog.pg_inherits i"
							  " WHERE i.inhparent OPERATOR(pg_catalog.=) $2",
							  pm->schema),
					 SPI_OK_SELECT, 2, ctypes, cvalues, NULL);
		tt = SPI_tuptable;
		n = SPI_processed;
		for (i = 0; i < n; i++)
			ddl(psprintf("ALTER TABLE %s SET (" PGMQ_QUEUE_STORAGE ")",
						 SPI_getvalue(tt->vals[i], tt->tupdesc, 1)));
	}
}

/* Register a partitioned queue in pgmq.meta unless it is there already. */
static void
insert_partitioned_meta(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(name);
	pgmq_run_sql("INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)"
				 " VALUES ($1, true, false) ON CONFLICT (queue_name) DO NOTHING",
				 SPI_OK_INSERT, 1, types, values, NULL);
}

/*
 * pgmq.create_partitioned(queue_name text, partition_interval text DEFAULT '10000',
 *		retention_interval text DEFAULT '100000') RETURNS void
 *
 * Idempotent like pgmq.create: tables that exist are kept as they are; a
 * plain q_ table of that name is an error (it cannot become partitioned in
 * place).
 */
Datum
pgmq_create_partitioned(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];
	PartSpec	ps;
	Partman		pm;
	Oid			qrel;

	pgmq_name_arg(fcinfo, 0, name);
	part_spec_args(fcinfo, 1, 2, &ps);
	pgmq_connect();
	require_partman(&pm);

	pgmq_acquire_name_lock(name);
	AcceptInvalidationMessages();
	qrel = pgmq_table_oid("q", name);
	if (OidIsValid(qrel) && get_rel_relkind(qrel) != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("queue \"%s\" already exists and is not partitioned", name),
				 errhint("Drop the queue first, or go on using it unpartitioned.")));
	if (!OidIsValid(qrel))
	{
		create_parent_table("q", name, &ps);
		partman_manage(&pm, "q", name, &ps, 4, NULL);
	}
	if (!OidIsValid(pgmq_table_oid("a", name)))
	{
		create_parent_table("a", name, &ps);
		partman_manage(&pm, "a", name, &ps, 4, NULL);
	}
	insert_partitioned_meta(name);
	pgmq_finish();
	PG_RETURN_VOID();
}

/* First value of an SPI result as text (NULL when there is none or it is NULL). */
static char *
first_value(void)
{
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * pgmq.convert_archive_partitioned(table_name text, partition_interval text DEFAULT '10000',
 *		retention_interval text DEFAULT '100000', leading_partition integer DEFAULT 10)
 *		RETURNS void
 *
 * table_name is the queue's name.  Replaces a plain a_<name> by a
 * partitioned one in one transaction: the old table is renamed, the new one
 * gets children covering every msg_id (or archived_at) the old rows and the
 * queue's messages use plus leading_partition more, the rows move over, and
 * the old table is dropped.  An archive that is partitioned already is left
 * alone with a NOTICE.
 */
Datum
pgmq_convert_archive_partitioned(PG_FUNCTION_ARGS)
{
	char		name[NAMEDATALEN];
	char	   *raw;
	PartSpec	ps;
	Partman		pm;
	int32		leading;
	Oid			arel;
	char	   *atable;
	char	   *oldname;
	char	   *oldtable;
	char	   *start;
	char	   *columns;
	char	   *owner;
	Oid			oidtype[1] = {OIDOID};
	Datum		oidval[1];

	pgmq_require_arg(fcinfo, 0, "table_name");
	raw = text_to_cstring(PG_GETARG_TEXT_PP(0));
	pgmq_check_name(raw, name);
	part_spec_args(fcinfo, 1, 2, &ps);
	leading = pgmq_positive_int_arg(fcinfo, 3, "leading_partition");
	pgmq_connect();
	require_partman(&pm);

	pgmq_acquire_name_lock(name);
	AcceptInvalidationMessages();
	arel = pgmq_table_oid("a", name);
	if (!OidIsValid(pgmq_table_oid("q", name)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("queue \"%s\" does not exist", name)));
	if (!OidIsValid(arel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("archive table \"pgmq.a_%s\" does not exist", name)));
	if (get_rel_relkind(arel) == RELKIND_PARTITIONED_TABLE)
	{
		pgmq_finish();
		ereport(NOTICE,
				(errmsg("archive table \"pgmq.a_%s\" is partitioned already", name)));
		PG_RETURN_VOID();
	}

	atable = pgmq_qualified_table("a", name);
	oldname = psprintf("a_%s_old", name);
	oldtable = quote_qualified_identifier("pgmq", oldname);
	if (OidIsValid(get_relname_relid(oldname, pgmq_namespace_oid(false))))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("cannot convert the archive of queue \"%s\": table %s exists",
						name, oldtable),
				 errhint("The old archive is moved aside under that name while its rows are copied; rename or drop that table first.")));

	/* Owner, columns and key names of the old table, before it moves aside. */
	oidval[0] = ObjectIdGetDatum(arel);
	pgmq_run_sql("SELECT pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(relowner))"
				 " FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) $1",
				 SPI_OK_SELECT, 1, oidtype, oidval, NULL);
	owner = first_value();
	pgmq_run_sql("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname), ', ' ORDER BY attnum)"
				 " FROM pg_catalog.pg_attribute WHERE attrelid OPERATOR(pg_catalog.=) $1"
				 " AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped"
				 " AND attname OPERATOR(pg_catalog.=) ANY ('{msg_id,read_ct,enqueued_at,"
				 "last_read_at,archived_at,vt,message,headers}')",
				 SPI_OK_SELECT, 1, oidtype, oidval, NULL);
	columns = first_value();

	ddl(psprintf("ALTER TABLE %s RENAME TO %s", atable, quote_identifier(oldname)));
	/* Free the index names the new table's keys will want. */
	pgmq_run_sql("SELECT pg_catalog.quote_ident(conname) FROM pg_catalog.pg_constraint"
				 " WHERE conrelid OPERATOR(pg_catalog.=) $1 AND contype IN ('p', 'u')",
				 SPI_OK_SELECT, 1, oidtype, oidval, NULL);
	{
		SPITupleTable *tt = SPI_tuptable;
		uint64		n = SPI_processed;
		uint64		i;

		for (i = 0; i < n; i++)
			ddl(psprintf("ALTER TABLE %s DROP CONSTRAINT %s", oldtable,
						 SPI_getvalue(tt->vals[i], tt->tupdesc, 1)));
	}

	create_parent_table("a", name, &ps);
	if (ps.by_id)
	{
		/* msg_ids in use: the old archive's, the queue's, and the sequence's last */
		char	   *qtable = pgmq_qualified_table("q", name);
		char	   *lo;
		char	   *hi;

		pgmq_run_sql(psprintf("SELECT LEAST(a.lo, q.lo, s.last)::text,"
							  " GREATEST(a.hi, q.hi, s.last)::text"
							  " FROM (SELECT pg_catalog.min(msg_id) lo, pg_catalog.max(msg_id) hi FROM %s) a,"
							  " (SELECT pg_catalog.min(msg_id) lo, pg_catalog.max(msg_id) hi FROM %s) q,"
							  " (SELECT COALESCE(pg_catalog.pg_sequence_last_value("
							  "   pg_catalog.pg_get_serial_sequence('%s', 'msg_id')::pg_catalog.regclass), 0) last) s",
							  oldtable, qtable, qtable),
					 SPI_OK_SELECT, 0, NULL, NULL, NULL);
		lo = first_value();
		hi = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		start = lo;
		partman_manage(&pm, "a", name, &ps, leading, start);
		/* children for every msg_id from there to leading partitions past the last */
		{
			Oid			types[4] = {TEXTOID, INT8OID, INT8OID, INT8OID};
			Datum		values[4];
			int64		iv = pg_strtoint64(ps.interval);
			int64		from = pg_strtoint64(lo);

			values[0] = CStringGetTextDatum(partman_parent("a", name));
			values[1] = Int64GetDatum(from - from % iv);
			values[2] = Int64GetDatum(pg_strtoint64(hi) + iv * leading);
			values[3] = Int64GetDatum(iv);
			pgmq_run_sql(psprintf("SELECT %s.create_partition_id($1,"
								  " ARRAY(SELECT pg_catalog.generate_series($2, $3, $4)), false)",
								  pm.schema),
						 SPI_OK_SELECT, 4, types, values, NULL);
		}
	}
	else
	{
		/* children from the oldest archived row on (partman makes them up to now) */
		pgmq_run_sql(psprintf("SELECT COALESCE(pg_catalog.min(archived_at), pg_catalog.now())::text FROM %s",
							  oldtable),
					 SPI_OK_SELECT, 0, NULL, NULL, NULL);
		start = first_value();
		partman_manage(&pm, "a", name, &ps, leading, start);
	}

	pgmq_run_sql(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
						  atable, columns, columns, oldtable),
				 SPI_OK_INSERT, 0, NULL, NULL, NULL);
	ddl(psprintf("DROP TABLE %s", oldtable));
	ddl(psprintf("ALTER TABLE %s OWNER TO %s", atable, owner));
	pgmq_finish();
	pgmq_plan_cache_forget(name);
	PG_RETURN_VOID();
}

/*
 * drop_queue's part: forget pg_partman's configuration of queue name's
 * partitioned tables (part_config and part_config_sub rows, and the
 * template tables pg_partman made for them).  Call while connected to SPI
 * and before the tables are dropped; does nothing for a queue with no
 * partitioned table.
 */
void
pgmq_partman_forget(const char *name)
{
	Oid			qrel = pgmq_table_oid("q", name);
	Oid			arel = pgmq_table_oid("a", name);
	Partman		pm;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	Datum		parents[2];
	SPITupleTable *tt;
	uint64		ntemplates;
	uint64		i;

	if (!(OidIsValid(qrel) && get_rel_relkind(qrel) == RELKIND_PARTITIONED_TABLE) &&
		!(OidIsValid(arel) && get_rel_relkind(arel) == RELKIND_PARTITIONED_TABLE))
		return;
	if (!find_partman(&pm))
		return;

	parents[0] = CStringGetTextDatum(partman_parent("q", name));
	parents[1] = CStringGetTextDatum(partman_parent("a", name));
	values[0] = PointerGetDatum(construct_array(parents, 2, TEXTOID, -1, false, TYPALIGN_INT));

	/* the templates go last, and only when no other set uses them */
	pgmq_run_sql(psprintf("SELECT DISTINCT template_table FROM %s.part_config"
						  " WHERE parent_table OPERATOR(pg_catalog.=) ANY ($1)"
						  " AND template_table IS NOT NULL", pm.schema),
				 SPI_OK_SELECT, 1, types, values, NULL);
	tt = SPI_tuptable;
	ntemplates = SPI_processed;

	pgmq_run_sql(psprintf("DELETE FROM %s.part_config_sub"
						  " WHERE sub_parent OPERATOR(pg_catalog.=) ANY ($1)", pm.schema),
				 SPI_OK_DELETE, 1, types, values, NULL);
	pgmq_run_sql(psprintf("DELETE FROM %s.part_config"
						  " WHERE parent_table OPERATOR(pg_catalog.=) ANY ($1)", pm.schema),
				 SPI_OK_DELETE, 1, types, values, NULL);

	for (i = 0; i < ntemplates; i++)
	{
		char	   *template = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
		char	   *dot = strchr(template, '.');
		Oid			ttypes[1] = {TEXTOID};
		Datum		tvalues[1];

		if (dot == NULL)
			continue;
		tvalues[0] = CStringGetTextDatum(template);
		pgmq_run_sql(psprintf("SELECT 1 FROM %s.part_config"
							  " WHERE template_table OPERATOR(pg_catalog.=) $1", pm.schema),
					 SPI_OK_SELECT, 1, ttypes, tvalues, NULL);
		if (SPI_processed > 0)
			continue;
		*dot = '\0';
		ddl(psprintf("DROP TABLE IF EXISTS %s",
					 quote_qualified_identifier(template, dot + 1)));
	}
}
