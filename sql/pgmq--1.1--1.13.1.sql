-- pgmq 1.1 -> 1.13.1: the pgmq 1.13.1 API (versions are named after the pgmq
-- API they implement), plus what this release adds.
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql, pgmq--1.0--1.1.sql and then
-- this script.  Every object added here must also reach an installation
-- upgraded in place from the PL/pgSQL pgmq (see sql/pgmq--1.11.0--1.13.1.sql).
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.13.1'" to load this file. \quit

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
