-- pgmq 1.1 -> 1.13.1: the pgmq 1.13.1 API (versions are named after the pgmq
-- API they implement), plus what this release adds.
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql, pgmq--1.0--1.1.sql and then
-- this script.  Every object added here must also reach an installation
-- upgraded in place from the PL/pgSQL pgmq (see sql/pgmq--1.11.0--1.13.1.sql).
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.13.1'" to load this file. \quit

-- issue 11: security ----------------------------------------------------------
-- (src/queue_iter.c, src/dead_letter_trigger.c, src/notify.c; docs/security.md)
-- This script also runs, as the bootstrap superuser, inside a trusted
-- CREATE EXTENSION by a role that owns schema pgmq: every name in it is
-- schema-qualified and every call matches its function's argument types
-- exactly, so nothing that role creates in pgmq can be picked instead.

-- Names in pgmq.meta pass the queue name rule on UPDATE too (INSERT has
-- meta_before_insert); the rule is the C one every argument passes.
CREATE FUNCTION pgmq._meta_check_name() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmq_meta_check_name' LANGUAGE C;
CREATE TRIGGER meta_check_name BEFORE UPDATE OF queue_name ON pgmq.meta
    FOR EACH ROW EXECUTE FUNCTION pgmq._meta_check_name();

-- meta_before_insert, calling validate_queue_name with its exact argument
-- type: with a varchar argument, a pgmq.validate_queue_name(varchar) made by
-- whoever may create functions in schema pgmq would be chosen instead, and
-- run as whoever inserts a queue (a superuser, say).
CREATE OR REPLACE FUNCTION pgmq._meta_before_insert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    BEGIN
        PERFORM pgmq.validate_queue_name(NEW.queue_name::pg_catalog.text);
    EXCEPTION WHEN invalid_name OR name_too_long OR null_value_not_allowed THEN
        RAISE WARNING 'pgmq: queue "%" left out of pgmq.meta: its name is not valid', NEW.queue_name
            USING HINT = 'Queue names are 1 to 47 ASCII letters, digits, "_" or "-".';
        RETURN NULL;
    END;
    NEW.queue_name := pg_catalog.lower(NEW.queue_name::pg_catalog.text);
    IF EXISTS (SELECT 1 FROM pgmq.meta m
               WHERE m.queue_name OPERATOR(pg_catalog.=) NEW.queue_name) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- TRUNCATE fires no row trigger: drop every cached policy.
CREATE TRIGGER dead_letter_policy_truncated AFTER TRUNCATE ON pgmq.dead_letter_policy
    FOR EACH STATEMENT EXECUTE FUNCTION pgmq.dead_letter_policy_changed();

-- Only the owner of a queue's table may set where its dead letters go.
CREATE FUNCTION pgmq._dead_letter_policy_check() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmq_dead_letter_policy_check' LANGUAGE C;
CREATE TRIGGER dead_letter_policy_check BEFORE INSERT OR UPDATE ON pgmq.dead_letter_policy
    FOR EACH ROW EXECUTE FUNCTION pgmq._dead_letter_policy_check();

-- Readers count their own moves, with their own rights: everyone may write
-- the counts, and the trigger lets a role write only the count of a queue it
-- may DELETE from (moving needs that), and only upwards.
CREATE FUNCTION pgmq._dead_letter_counts_check() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmq_dead_letter_counts_check' LANGUAGE C;
CREATE TRIGGER dead_letter_counts_check BEFORE INSERT OR UPDATE ON pgmq.dead_letter_counts
    FOR EACH ROW EXECUTE FUNCTION pgmq._dead_letter_counts_check();
GRANT INSERT, UPDATE (moved) ON pgmq.dead_letter_counts TO PUBLIC;

-- Senders stamp the notify throttle with their own rights: everyone may
-- update last_notified_at, and the trigger lets a role stamp only the row of
-- a queue it may INSERT into, never ahead of the clock.
CREATE FUNCTION pgmq._notify_throttle_check() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmq_notify_throttle_check' LANGUAGE C;
CREATE TRIGGER notify_throttle_check BEFORE UPDATE ON pgmq.notify_insert_throttle
    FOR EACH ROW EXECUTE FUNCTION pgmq._notify_throttle_check();
GRANT UPDATE (last_notified_at) ON pgmq.notify_insert_throttle TO PUBLIC;
-- end of issue 11: security ---------------------------------------------------

-- issue 13: pgmq 1.13.1 API ------------------------------------------------------
-- (src/fifo_head.c, src/metrics.c, src/queue_name.c, src/notify.c; docs/api_changes.md)

-- 1.11.1 / 1.12.0: the head of each FIFO group, one message per group.
CREATE FUNCTION pgmq.read_grouped_head(queue_name text, vt integer, qty integer)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_grouped_head' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.read_grouped_head_with_poll(queue_name text, vt integer, qty integer,
                                                 max_poll_seconds integer DEFAULT 5,
                                                 poll_interval_ms integer DEFAULT 100)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_grouped_head_with_poll' LANGUAGE C VOLATILE;

-- 1.13.0: metrics_result's 8th field is default_partition_length; our
-- dead_lettered (8th since 1.1) moves to 9th.  A composite type cannot
-- reorder its attributes, so dead_lettered is dropped and added back after
-- the new one (the functions returning the type fill it by position).
-- A view that reads dead_lettered blocks that: say which, and what to do,
-- rather than PostgreSQL's advice to drop them with CASCADE.
DO $$
DECLARE
    views pg_catalog.text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT r.ev_class::pg_catalog.regclass::pg_catalog.text, ', ')
      INTO views
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_rewrite r ON r.oid OPERATOR(pg_catalog.=) d.objid
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid
                                    AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid OPERATOR(pg_catalog.=) (SELECT t.typrelid FROM pg_catalog.pg_type t
                          WHERE t.oid OPERATOR(pg_catalog.=) 'pgmq.metrics_result'::pg_catalog.regtype)
       AND a.attname OPERATOR(pg_catalog.=) 'dead_lettered';
    IF views IS NOT NULL THEN
        RAISE EXCEPTION 'pgmq 1.13.1 moves column dead_lettered of pgmq.metrics_result, which these views read: %', views
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Drop these views (save their definitions with pg_get_viewdef), run ALTER EXTENSION pgmq UPDATE, then create them again.';
    END IF;
END
$$;
ALTER TYPE pgmq.metrics_result DROP ATTRIBUTE dead_lettered;
ALTER TYPE pgmq.metrics_result ADD ATTRIBUTE default_partition_length bigint;
ALTER TYPE pgmq.metrics_result ADD ATTRIBUTE dead_lettered bigint;

-- As in 1.11, last_notified_at starts at the epoch (enable_notify_insert and
-- update_notify_insert set it back there).
UPDATE pgmq.notify_insert_throttle SET last_notified_at = pg_catalog.to_timestamp(0)
 WHERE last_notified_at IS NULL;
ALTER TABLE pgmq.notify_insert_throttle
    ALTER COLUMN last_notified_at SET DEFAULT pg_catalog.to_timestamp(0),
    ALTER COLUMN last_notified_at SET NOT NULL;

-- Case-preserving queue names: pgmq.meta keeps the name as the create call
-- spelled it; one queue (one row) per lower-cased name, which this index
-- enforces and which every lookup by name uses (PGMQ_META_NAME in pgmq.h).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pgmq.meta
               GROUP BY pg_catalog.lower(queue_name::pg_catalog.text COLLATE pg_catalog."C")
               HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 1) THEN
        RAISE EXCEPTION 'pgmq.meta has queues whose names differ only in case: %',
            (SELECT pg_catalog.string_agg(m.queue_name::pg_catalog.text, ', ' ORDER BY m.queue_name)
               FROM pgmq.meta m
              WHERE (SELECT pg_catalog.count(*) FROM pgmq.meta o
                      WHERE pg_catalog.lower(o.queue_name::pg_catalog.text COLLATE pg_catalog."C")
                            OPERATOR(pg_catalog.=)
                            pg_catalog.lower(m.queue_name::pg_catalog.text COLLATE pg_catalog."C"))
                    OPERATOR(pg_catalog.>) 1)
            USING HINT = 'They share one queue table. Delete the extra rows from pgmq.meta, then run the update again.';
    END IF;
END
$$;
CREATE UNIQUE INDEX meta_queue_name_lower_key
    ON pgmq.meta (pg_catalog.lower(queue_name::pg_catalog.text COLLATE pg_catalog."C"));

-- A row for a name pgmq.meta has in any case is skipped (create is
-- idempotent whatever the case); a name that is not valid is left out.
CREATE OR REPLACE FUNCTION pgmq._meta_before_insert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    BEGIN
        PERFORM pgmq.validate_queue_name(NEW.queue_name::pg_catalog.text);
    EXCEPTION WHEN invalid_name OR name_too_long OR null_value_not_allowed OR raise_exception THEN
        RAISE WARNING 'pgmq: queue "%" left out of pgmq.meta: its name is not valid', NEW.queue_name
            USING HINT = 'Queue names are 1 to 47 ASCII letters, digits, "_" or "-".';
        RETURN NULL;
    END;
    IF EXISTS (SELECT 1 FROM pgmq.meta m
               WHERE pg_catalog.lower(m.queue_name::pg_catalog.text COLLATE pg_catalog."C")
                     OPERATOR(pg_catalog.=)
                     pg_catalog.lower(NEW.queue_name::pg_catalog.text COLLATE pg_catalog."C")) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- validate_queue_name raises P0001 for a name that is too long (as pgmq 1.11
-- does): adoption must still pass over such a table with a warning.
DO $$
DECLARE
    def pg_catalog.text := pg_catalog.pg_get_functiondef('pgmq._adopt_queue_tables()'::pg_catalog.regprocedure);
    old pg_catalog.text := 'EXCEPTION WHEN invalid_name OR name_too_long THEN';
BEGIN
    IF pg_catalog.strpos(def, old) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'pgmq: _adopt_queue_tables has no "%" to extend', old;
    END IF;
    EXECUTE pg_catalog.replace(def, old,
                               'EXCEPTION WHEN invalid_name OR name_too_long OR raise_exception THEN');
END
$$;
-- issue 17: statistics
-- Per-queue cumulative counters kept in shared memory when pgmq is in
-- shared_preload_libraries (src/stats.c).  Reading them never scans a queue.
CREATE FUNCTION pgmq.stats(
    OUT queue_name text,
    OUT sends bigint,
    OUT messages_sent bigint,
    OUT reads bigint,
    OUT messages_delivered bigint,
    OUT redeliveries bigint,
    OUT empty_reads bigint,
    OUT deletes bigint,
    OUT archives bigint,
    OUT pops bigint,
    OUT dead_lettered bigint,
    OUT poll_wakeups bigint,
    OUT queue_length_estimate bigint,
    OUT stats_reset timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmq_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE VIEW pgmq.stats AS SELECT * FROM pgmq.stats();

CREATE FUNCTION pgmq.stats_reset(queue_name text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pgmq_stats_reset' LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pgmq.stats_info(
    OUT max_tracked_queues integer,
    OUT tracked_queues integer,
    OUT untracked_events bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmq_stats_info' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- Monitoring roles read them; only superusers (or whom they grant) reset.
REVOKE ALL ON FUNCTION pgmq.stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmq.stats_info() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmq.stats_reset(text) FROM PUBLIC;
REVOKE ALL ON pgmq.stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmq.stats() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmq.stats_info() TO pg_monitor;
GRANT SELECT ON pgmq.stats TO pg_monitor;
-- end of issue 17: statistics

-- issue 16: read_multi ---------------------------------------------------------
-- Reading several queues at once (src/read_multi.c, docs/features.md).
CREATE TYPE pgmq.multi_message_record AS (
    queue_name text,
    msg_id bigint,
    read_ct integer,
    enqueued_at timestamp with time zone,
    last_read_at timestamp with time zone,
    vt timestamp with time zone,
    message jsonb,
    headers jsonb
);

CREATE FUNCTION pgmq.read_multi(queue_names text[], vt integer, qty integer)
    RETURNS SETOF pgmq.multi_message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_multi' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.read_multi_with_poll(queue_names text[], vt integer, qty integer,
        max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
    RETURNS SETOF pgmq.multi_message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_multi_with_poll' LANGUAGE C VOLATILE;
-- end of issue 16: read_multi

-- issue 16: deduplication -----------------------------------------------------
-- x-pgmq-dedup-id on a queue with a window (src/dedup.c, docs/features.md).
-- The window of each queue; its ids live in pgmq.d_<name>, made by
-- set_dedup_window and dropped with the queue.
CREATE TABLE pgmq.dedup_settings (
    queue_name character varying PRIMARY KEY
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    window_seconds integer NOT NULL CHECK (window_seconds > 0)
);
SELECT pg_catalog.pg_extension_config_dump('pgmq.dedup_settings', '');
GRANT SELECT ON pgmq.dedup_settings TO PUBLIC;
GRANT SELECT ON pgmq.dedup_settings TO pg_monitor;
GRANT INSERT, UPDATE, DELETE ON pgmq.dedup_settings TO @extowner@;

CREATE FUNCTION pgmq.set_dedup_window(queue_name text, seconds integer) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_set_dedup_window' LANGUAGE C VOLATILE;
-- end of issue 16: deduplication

-- issue 16: retention ---------------------------------------------------------
-- Message and archive retention (src/retention.c, docs/features.md).
CREATE TABLE pgmq.retention_settings (
    queue_name character varying PRIMARY KEY
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    message_retention interval,
    archive_retention interval
);
SELECT pg_catalog.pg_extension_config_dump('pgmq.retention_settings', '');
-- messages removed unread by message_retention, per queue (metrics)
CREATE TABLE pgmq.retention_counts (
    queue_name character varying PRIMARY KEY
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    expired bigint NOT NULL DEFAULT 0
);
SELECT pg_catalog.pg_extension_config_dump('pgmq.retention_counts', '');
GRANT SELECT ON pgmq.retention_settings, pgmq.retention_counts TO PUBLIC;
GRANT SELECT ON pgmq.retention_settings, pgmq.retention_counts TO pg_monitor;
GRANT INSERT, UPDATE, DELETE ON pgmq.retention_settings, pgmq.retention_counts TO @extowner@;

CREATE FUNCTION pgmq.set_retention(queue_name text, message_retention interval,
        archive_retention interval) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_set_retention' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.apply_retention(queue_name text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'pgmq_apply_retention' LANGUAGE C VOLATILE;

-- metrics: messages the queue's retention removed unread (after the columns
-- other changes of this release append)
ALTER TYPE pgmq.metrics_result ADD ATTRIBUTE retention_expired bigint;
-- end of issue 16: retention

-- issue 16: priorities --------------------------------------------------------
-- x-pgmq-priority on a queue that opted in (src/priority.c, docs/features.md).
CREATE FUNCTION pgmq.enable_priorities(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_enable_priorities' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.disable_priorities(queue_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_disable_priorities' LANGUAGE C VOLATILE;

-- The priority of a message with these headers (0-9), the first column of
-- a prioritised queue's index q_<name>_prio_idx (internal: not client API).
CREATE FUNCTION pgmq._message_priority(headers jsonb) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgmq_message_priority' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- end of issue 16: priorities
-- ---------------------------------------------------------------------------
-- Read start position (issue 14, docs/horizon.md): where a read of a queue
-- table may begin its vt range, kept in shared memory; called inside the
-- read and pop statements.  -infinity when there is none.
CREATE FUNCTION pgmq._horizon_start(queue_table oid)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'pgmq_horizon_start'
    LANGUAGE C STABLE STRICT;

-- issue 12/13: partitioned queues ----------------------------------------------
-- (src/partition.c; docs/partitioning.md)
-- pgmq 1.13 signature: premake (children made ahead) is the 4th argument and the
-- 3-argument form is gone.  msg_id of partitioned q_ tables is GENERATED BY
-- DEFAULT AS IDENTITY, as pgmq 1.13 makes them: new queues get it from the C
-- code, and the q_ tables of queues partitioned before are changed here (the
-- column, its sequence and its values stay as they are).
DROP FUNCTION pgmq.create_partitioned(pg_catalog.text, pg_catalog.text, pg_catalog.text);
CREATE FUNCTION pgmq.create_partitioned(queue_name pg_catalog.text,
                                        partition_interval pg_catalog.text DEFAULT '10000',
                                        retention_interval pg_catalog.text DEFAULT '100000',
                                        premake pg_catalog.int4 DEFAULT 4)
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create_partitioned' LANGUAGE C VOLATILE;

DO $$
DECLARE
    tbl pg_catalog.name;
BEGIN
    -- table names from the catalog, quoted with %I: never a name read from a table of ours
    FOR tbl IN
        SELECT c.relname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'pgmq'::pg_catalog.regnamespace
           AND c.relkind OPERATOR(pg_catalog.=) 'p' AND NOT c.relispartition
           AND c.relname OPERATOR(pg_catalog.~) '^q_'
           AND a.attname OPERATOR(pg_catalog.=) 'msg_id'
           AND a.attidentity OPERATOR(pg_catalog.=) 'a'
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE pgmq.%I ALTER COLUMN msg_id SET GENERATED BY DEFAULT',
                                  tbl::pg_catalog.text);
    END LOOP;
END $$;
-- end of issue 12/13: partitioned queues ----------------------------------------
