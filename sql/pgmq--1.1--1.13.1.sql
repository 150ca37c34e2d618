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
