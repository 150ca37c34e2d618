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

-- Topics and insert notifications ---------------------------------------------
-- (src/topics.c, src/routing.c, src/notify.c; docs/topics.md, docs/notify.md)

-- Topic bindings: a queue gets every message sent with a routing key that
-- matches one of its patterns.  Rows go with the queue's meta row.
CREATE TABLE pgmq.topic_bindings (
    pattern text NOT NULL,
    queue_name character varying NOT NULL
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    bound_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now(),
    compiled_regex text NOT NULL,
    CONSTRAINT topic_bindings_unique_pattern_queue UNIQUE (pattern, queue_name)
);
CREATE INDEX topic_bindings_queue_name_idx ON pgmq.topic_bindings (queue_name);
SELECT pg_catalog.pg_extension_config_dump('pgmq.topic_bindings', '');

-- Insert notifications: one row per queue that notifies its listeners.
CREATE TABLE pgmq.notify_insert_throttle (
    queue_name character varying NOT NULL UNIQUE
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    throttle_interval_ms integer NOT NULL DEFAULT 0
        CHECK (throttle_interval_ms >= 0),
    last_notified_at timestamp with time zone
);
SELECT pg_catalog.pg_extension_config_dump('pgmq.notify_insert_throttle', '');

GRANT SELECT ON pgmq.topic_bindings, pgmq.notify_insert_throttle TO PUBLIC;
GRANT SELECT ON pgmq.topic_bindings, pgmq.notify_insert_throttle TO pg_monitor;
GRANT INSERT, UPDATE, DELETE ON pgmq.topic_bindings, pgmq.notify_insert_throttle
    TO @extowner@;

CREATE FUNCTION pgmq.validate_routing_key(routing_key text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_validate_routing_key' LANGUAGE C IMMUTABLE;

CREATE FUNCTION pgmq.validate_topic_pattern(pattern text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_validate_topic_pattern' LANGUAGE C IMMUTABLE;

CREATE FUNCTION pgmq.bind_topic(pattern text, queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_bind_topic' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.unbind_topic(pattern text, queue_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_unbind_topic' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.test_routing(routing_key text)
    RETURNS TABLE (pattern text, queue_name text, compiled_regex text)
    AS 'MODULE_PATHNAME', 'pgmq_test_routing' LANGUAGE C STABLE;

CREATE FUNCTION pgmq.list_topic_bindings()
    RETURNS TABLE (pattern text, queue_name text, bound_at timestamp with time zone,
                   compiled_regex text)
    AS 'MODULE_PATHNAME', 'pgmq_list_topic_bindings' LANGUAGE C STABLE;

CREATE FUNCTION pgmq.list_topic_bindings(queue_name text)
    RETURNS TABLE (pattern text, queue_name text, bound_at timestamp with time zone,
                   compiled_regex text)
    AS 'MODULE_PATHNAME', 'pgmq_list_topic_bindings_queue' LANGUAGE C STABLE;

CREATE FUNCTION pgmq.send_topic(routing_key text, msg jsonb) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgmq_send_topic' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_topic(routing_key text, msg jsonb, delay integer)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'pgmq_send_topic_delay' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_topic(routing_key text, msg jsonb, headers jsonb,
                                delay integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'pgmq_send_topic_headers_delay' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[])
    RETURNS TABLE (queue_name text, msg_id bigint)
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_topic' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], delay integer)
    RETURNS TABLE (queue_name text, msg_id bigint)
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_topic_delay' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[],
                                      delay timestamp with time zone)
    RETURNS TABLE (queue_name text, msg_id bigint)
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_topic_at' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[])
    RETURNS TABLE (queue_name text, msg_id bigint)
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_topic_headers' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[],
                                      delay integer)
    RETURNS TABLE (queue_name text, msg_id bigint)
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_topic_headers_delay' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[],
                                      delay timestamp with time zone)
    RETURNS TABLE (queue_name text, msg_id bigint)
    AS 'MODULE_PATHNAME', 'pgmq_send_batch_topic_headers_at' LANGUAGE C VOLATILE;

-- The AFTER INSERT trigger function enable_notify_insert puts on a queue table.
CREATE FUNCTION pgmq.notify_queue_listeners() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmq_notify_queue_listeners' LANGUAGE C;

CREATE FUNCTION pgmq.enable_notify_insert(queue_name text,
                                          throttle_interval_ms integer DEFAULT 250)
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_enable_notify_insert' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.disable_notify_insert(queue_name text) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_disable_notify_insert' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.update_notify_insert(queue_name text, throttle_interval_ms integer)
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_update_notify_insert' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.list_notify_insert_throttles()
    RETURNS TABLE (queue_name text, throttle_interval_ms integer,
                   last_notified_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
        SELECT t.queue_name::pg_catalog.text, t.throttle_interval_ms, t.last_notified_at
          FROM pgmq.notify_insert_throttle t
         ORDER BY t.queue_name COLLATE pg_catalog."C"
    $$;
