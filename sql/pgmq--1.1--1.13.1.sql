-- pgmq 1.1 -> 1.13.1: the pgmq 1.13.1 API (versions are named after the pgmq
-- API they implement), plus what this release adds.
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql, pgmq--1.0--1.1.sql and then
-- this script.  Every object added here must also reach an installation
-- upgraded in place from the PL/pgSQL pgmq (see sql/pgmq--1.11.0--1.13.1.sql).
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.13.1'" to load this file. \quit

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
    views text;
BEGIN
    SELECT string_agg(DISTINCT r.ev_class::regclass::text, ', ') INTO views
      FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid
      JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
       AND d.refclassid = 'pg_catalog.pg_class'::regclass
       AND d.refobjid = (SELECT typrelid FROM pg_catalog.pg_type
                          WHERE oid = 'pgmq.metrics_result'::regtype)
       AND a.attname = 'dead_lettered';
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
               GROUP BY pg_catalog.lower(queue_name::text COLLATE "C") HAVING count(*) > 1) THEN
        RAISE EXCEPTION 'pgmq.meta has queues whose names differ only in case: %',
            (SELECT string_agg(queue_name, ', ' ORDER BY queue_name) FROM pgmq.meta m
              WHERE (SELECT count(*) FROM pgmq.meta o
                      WHERE pg_catalog.lower(o.queue_name::text COLLATE "C")
                          = pg_catalog.lower(m.queue_name::text COLLATE "C")) > 1)
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
        PERFORM pgmq.validate_queue_name(NEW.queue_name);
    EXCEPTION WHEN invalid_name OR name_too_long OR null_value_not_allowed OR raise_exception THEN
        RAISE WARNING 'pgmq: queue "%" left out of pgmq.meta: its name is not valid', NEW.queue_name
            USING HINT = 'Queue names are 1 to 47 ASCII letters, digits, "_" or "-".';
        RETURN NULL;
    END;
    IF EXISTS (SELECT 1 FROM pgmq.meta m
               WHERE lower(m.queue_name::text COLLATE "C") = lower(NEW.queue_name::text COLLATE "C")) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- validate_queue_name raises P0001 for a name that is too long (as pgmq 1.11
-- does): adoption must still pass over such a table with a warning.
DO $$
DECLARE
    def text := pg_catalog.pg_get_functiondef('pgmq._adopt_queue_tables()'::pg_catalog.regprocedure);
    old text := 'EXCEPTION WHEN invalid_name OR name_too_long THEN';
BEGIN
    IF pg_catalog.strpos(def, old) = 0 THEN
        RAISE EXCEPTION 'pgmq: _adopt_queue_tables has no "%" to extend', old;
    END IF;
    EXECUTE pg_catalog.replace(def, old,
                               'EXCEPTION WHEN invalid_name OR name_too_long OR raise_exception THEN');
END
$$;
