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
-- end of issue 16: priorities
