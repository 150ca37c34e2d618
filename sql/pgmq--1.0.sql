-- pgmq 1.0 install script: types, pgmq.meta, and the SQL functions of the
-- core message API, each bound straight to its C entry point.
\echo Use "CREATE EXTENSION pgmq" to load this file. \quit

-- Result types (column order is part of the API: clients read by position).
CREATE TYPE pgmq.message_record AS (
    msg_id bigint,
    read_ct integer,
    enqueued_at timestamp with time zone,
    last_read_at timestamp with time zone,
    vt timestamp with time zone,
    message jsonb,
    headers jsonb
);

CREATE TYPE pgmq.queue_record AS (
    queue_name character varying,
    is_partitioned boolean,
    is_unlogged boolean,
    created_at timestamp with time zone
);

CREATE TYPE pgmq.metrics_result AS (
    queue_name text,
    queue_length bigint,
    newest_msg_age_sec integer,
    oldest_msg_age_sec integer,
    total_messages bigint,
    scrape_time timestamp with time zone,
    queue_visible_length bigint
);

-- One row per queue; a config table so pg_dump keeps its rows.
CREATE TABLE pgmq.meta (
    queue_name character varying NOT NULL UNIQUE,
    is_partitioned boolean NOT NULL,
    is_unlogged boolean NOT NULL,
    created_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('pgmq.meta', '');

-- Privileges: anyone may call the functions; what a role may do to a queue is
-- decided by its privileges on the queue tables (see README, "Privileges").
GRANT USAGE ON SCHEMA pgmq TO PUBLIC;
GRANT SELECT ON pgmq.meta TO PUBLIC;
GRANT USAGE ON SCHEMA pgmq TO pg_monitor;
GRANT SELECT ON pgmq.meta TO pg_monitor;
-- The extension owner manages queues (with a trusted install the objects
-- belong to the bootstrap superuser, so the owner needs these grants).
GRANT CREATE ON SCHEMA pgmq TO @extowner@;
GRANT INSERT, UPDATE, DELETE ON pgmq.meta TO @extowner@;

-- Queue management -----------------------------------------------------------

CREATE FUNCTION pgmq.create(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.create_non_partitioned(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.create_unlogged(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create_unlogged' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.drop_queue(queue_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_drop_queue' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.drop_queue(queue_name text, partitioned boolean) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_drop_queue_partitioned' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.purge_queue(queue_name text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'pgmq_purge_queue' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.detach_archive(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_detach_archive' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.list_queues() RETURNS SETOF pgmq.queue_record
    AS 'MODULE_PATHNAME', 'pgmq_list_queues' LANGUAGE C STABLE;

CREATE FUNCTION pgmq.metrics(queue_name text) RETURNS pgmq.metrics_result
    AS 'MODULE_PATHNAME', 'pgmq_metrics' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.metrics_all() RETURNS SETOF pgmq.metrics_result
    AS 'MODULE_PATHNAME', 'pgmq_metrics_all' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.validate_queue_name(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_validate_queue_name' LANGUAGE C IMMUTABLE;

CREATE FUNCTION pgmq.format_table_name(queue_name text, prefix text) RETURNS text
    AS 'MODULE_PATHNAME', 'pgmq_format_table_name' LANGUAGE C IMMUTABLE;

CREATE FUNCTION pgmq.acquire_queue_lock(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_acquire_queue_lock' LANGUAGE C VOLATILE;

-- Sending ----------------------------------------------------------------------

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, delay integer) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_delay' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, delay timestamp with time zone)
    RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_at' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, headers jsonb) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_headers' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer)
    RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_headers_delay' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, headers jsonb,
                          delay timestamp with time zone) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_headers_at' LANGUAGE C VOLATILE ROWS 1;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[]) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_batch' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], delay integer)
    RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_delay' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[],
                                delay timestamp with time zone) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_at' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[])
    RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_headers' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[],
                                delay integer) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_headers_delay' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[],
                                delay timestamp with time zone) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_headers_at' LANGUAGE C VOLATILE;

-- Consuming --------------------------------------------------------------------

CREATE FUNCTION pgmq.read(queue_name text, vt integer, qty integer,
                          conditional jsonb DEFAULT '{}')
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.read_with_poll(queue_name text, vt integer, qty integer,
                                    max_poll_seconds integer DEFAULT 5,
                                    poll_interval_ms integer DEFAULT 100,
                                    conditional jsonb DEFAULT '{}')
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_with_poll' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.pop(queue_name text, qty integer DEFAULT 1)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_pop' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_set_vt' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_id bigint, vt timestamp with time zone)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_set_vt_at' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_ids bigint[], vt integer)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_set_vt_ids' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_ids bigint[], vt timestamp with time zone)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_set_vt_ids_at' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.delete(queue_name text, msg_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_delete' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.delete(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_delete_ids' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.archive(queue_name text, msg_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_archive' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.archive(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint
    AS 'MODULE_PATHNAME', 'pgmq_archive_ids' LANGUAGE C VOLATILE;

-- FIFO message groups ----------------------------------------------------------
-- The group of a message is headers->>'x-pgmq-group' (none: the default group).
-- See docs/fifo.md.

CREATE FUNCTION pgmq.read_grouped(queue_name text, vt integer, qty integer)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_grouped' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.read_grouped_with_poll(queue_name text, vt integer, qty integer,
                                            max_poll_seconds integer DEFAULT 5,
                                            poll_interval_ms integer DEFAULT 100)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_grouped_with_poll' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.read_grouped_rr(queue_name text, vt integer, qty integer)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_grouped_rr' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.read_grouped_rr_with_poll(queue_name text, vt integer, qty integer,
                                               max_poll_seconds integer DEFAULT 5,
                                               poll_interval_ms integer DEFAULT 100)
    RETURNS SETOF pgmq.message_record
    AS 'MODULE_PATHNAME', 'pgmq_read_grouped_rr_with_poll' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.create_fifo_index(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create_fifo_index' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.create_fifo_indexes_all() RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create_fifo_indexes_all' LANGUAGE C VOLATILE;
