-- pgmq_router 1.13.1: the pgmq 1.13.1 SQL API on a PL/Proxy router.
--
-- This file owns everything the router database has: schema pgmq with the
-- functions, argument names, defaults, result types and overloads of the pgmq
-- API (so unmodified clients connect here), and schema pgmq_router with the
-- placement rules, the spread-queue registry and the PL/Proxy functions that
-- run each call on a shard.  Shards are ordinary servers with CREATE EXTENSION
-- pgmq.  Membership is the SQL/MED server pgmq_cluster (foreign data wrapper
-- plproxy, options p0 .. pN-1, N a power of two) and its user mappings.
--
-- Placement: a queue lives on shard hashtext(lower(name)) & (N - 1); every
-- call for it goes there.  A spread queue (pgmq_router.create_spread) has a
-- part on every shard: sends go to the shards in turn (a message with an
-- x-pgmq-group header always to the shard of its group), reads take from the
-- shards in turn, and its msg_ids are local_id * 1024 + shard, so a msg_id says
-- which shard holds it.  Each call through the router is its own transaction
-- on the shard (PL/Proxy runs remote calls in autocommit).
--
-- Every function runs as its caller; plpgsql functions pin search_path to
-- pg_catalog, and the SQL sent to shards schema-qualifies what it calls.
\echo Use "CREATE EXTENSION pgmq_router" to load this file. \quit

CREATE SCHEMA pgmq;
GRANT USAGE ON SCHEMA pgmq TO PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Result types of the pgmq 1.13.1 API (same columns, same order)
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
    queue_visible_length bigint,
    default_partition_length bigint,
    dead_lettered bigint,
    retention_expired bigint
);

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

-- ---------------------------------------------------------------------------
-- Spread queues known to this router (lower-cased names).  Several routers:
-- run pgmq_router.create_spread on each (it is idempotent).
CREATE TABLE pgmq_router.spread_queue (
    queue_name text PRIMARY KEY,
    created_at timestamp with time zone NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('pgmq_router.spread_queue', '');
GRANT SELECT ON pgmq_router.spread_queue TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Membership and placement

-- Number of shards: options p0 .. pN-1 of the foreign server pgmq_cluster.
CREATE FUNCTION pgmq_router.shard_count() RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    SELECT count(*) INTO n
      FROM pg_foreign_server s CROSS JOIN LATERAL pg_options_to_table(s.srvoptions) o
     WHERE s.srvname = 'pgmq_cluster' AND o.option_name ~ '^p[0-9]+$';
    IF n = 0 THEN
        RAISE EXCEPTION 'the router has no shards: foreign server "pgmq_cluster" with options p0 .. pN-1 is not configured'
            USING ERRCODE = '42704',
                  HINT = 'CREATE SERVER pgmq_cluster FOREIGN DATA WRAPPER plproxy OPTIONS (p0 ''host=... dbname=...'', p1 ''...''); CREATE USER MAPPING FOR PUBLIC SERVER pgmq_cluster;';
    END IF;
    IF n & (n - 1) <> 0 OR n > 1024 THEN
        RAISE EXCEPTION 'the router has % shards: their number must be a power of two, at most 1024', n
            USING ERRCODE = '22023';
    END IF;
    RETURN n;
END $$;

-- "p1 (host=... port=...)" for error messages; a password is never shown.
CREATE FUNCTION pgmq_router.shard_label(a_shard integer) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'p' || a_shard || ' (' ||
           coalesce(regexp_replace(
               (SELECT o.option_value
                  FROM pg_foreign_server s CROSS JOIN LATERAL pg_options_to_table(s.srvoptions) o
                 WHERE s.srvname = 'pgmq_cluster' AND o.option_name = 'p' || a_shard),
               'password\s*=\s*(''[^'']*''|\S+)', 'password=***', 'g'), 'not configured') || ')'
$$;

-- Shard of a placed queue: PL/Proxy's own mapping (hash & (N - 1)) of the
-- case-folded name.  NULL names go to shard 0, which reports them.
CREATE FUNCTION pgmq_router.placement(queue_name text) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(hashtext(lower($1)) & (pgmq_router.shard_count() - 1), 0)
$$;

CREATE FUNCTION pgmq_router.is_spread(queue_name text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM pgmq_router.spread_queue s WHERE s.queue_name = lower($1))
$$;

-- Where calls for a queue go: its placement shard, whether it is spread, N.
-- (On every message call: one query; shard_count() only to report a bad
-- configuration.)
CREATE FUNCTION pgmq_router.route(a_q text, OUT shard integer, OUT spread boolean, OUT nshards integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    SELECT c.n, a_q IS NOT NULL AND EXISTS (SELECT 1 FROM pgmq_router.spread_queue s WHERE s.queue_name = lower(a_q))
      INTO nshards, spread
      FROM (SELECT count(*)::integer AS n
              FROM pg_foreign_server fs CROSS JOIN LATERAL pg_options_to_table(fs.srvoptions) o
             WHERE fs.srvname = 'pgmq_cluster' AND o.option_name ~ '^p[0-9]+$') c;
    IF nshards = 0 OR nshards & (nshards - 1) <> 0 OR nshards > 1024 THEN
        nshards := pgmq_router.shard_count();   -- raises
    END IF;
    shard := coalesce(hashtext(lower(a_q)) & (nshards - 1), 0);
END $$;

-- Every shard a queue has a part on: all of them for a spread queue.
CREATE FUNCTION pgmq_router.shards_of(a_q text) RETURNS integer[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    r := pgmq_router.route(a_q);
    IF r.spread THEN
        RETURN ARRAY(SELECT generate_series(0, r.nshards - 1));
    END IF;
    RETURN ARRAY[r.shard];
END $$;

-- The shard a message group of a spread queue lives on.
CREATE FUNCTION pgmq_router.group_shard(a_group text, a_nshards integer) RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT hashtext(a_group) & (a_nshards - 1)
$$;

-- The next shard in this session's turn (starts at a random shard).
CREATE FUNCTION pgmq_router.next_turn(a_nshards integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t bigint;
BEGIN
    t := coalesce(nullif(current_setting('pgmq_router.turn', true), '')::bigint,
                  floor(random() * 1024)::bigint) + 1;
    PERFORM set_config('pgmq_router.turn', (t % 1073741824)::text, false);
    RETURN (t % a_nshards)::integer;
END $$;

-- What a failed shard call means for availability: 'unsent' (the call never
-- reached the shard: connecting failed, or sending the query did), 'unknown'
-- (the connection broke while the shard had the call: it may have run), or
-- NULL (the shard answered with an error).
CREATE FUNCTION pgmq_router.failure_kind(a_state text, a_msg text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN a_msg LIKE 'PL/Proxy function %'
             AND a_msg ~ '(PQconnectPoll|PQconnectStart|connect timeout|PQsendQuery|PQflush|No memory for PGconn)'
            THEN 'unsent'
        WHEN a_msg LIKE 'PL/Proxy function %'
             AND a_msg ~ '(PQconsumeInput|Lost result|Unfinished connection|query timeout|server closed the connection)'
            THEN 'unknown'
        WHEN a_msg ~ '^[^ ]+\(\d+\): \[[^]]*\] REMOTE (FATAL|PANIC): ' OR a_state LIKE '57P0%'
            THEN 'unknown'
        ELSE NULL
    END
$$;

-- Re-raise a failed shard call: a shard's own error as the shard said it
-- (same SQLSTATE, message, detail, hint; PL/Proxy's prefix removed), a shard
-- that cannot be reached as 08006 naming it, a connection lost during the
-- call as 08007 (the call may have run).
CREATE FUNCTION pgmq_router.fail(a_shard integer, a_state text, a_msg text, a_detail text, a_hint text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text[];
    kind text := pgmq_router.failure_kind(a_state, a_msg);
    d text := coalesce(a_detail, '');
    h text := coalesce(a_hint, '');
BEGIN
    IF kind = 'unsent' THEN
        RAISE EXCEPTION 'shard % of cluster pgmq_cluster is unavailable', pgmq_router.shard_label(a_shard)
            USING ERRCODE = '08006', DETAIL = a_msg;
    ELSIF kind = 'unknown' THEN
        RAISE EXCEPTION 'shard % of cluster pgmq_cluster became unavailable during the call; it may or may not have been carried out',
                        pgmq_router.shard_label(a_shard)
            USING ERRCODE = '08007', DETAIL = a_msg;
    END IF;
    m := regexp_match(a_msg, '^[^ ]+\(\d+\): \[[^]]*\] REMOTE [A-Z]+: (.*)$');
    IF m IS NOT NULL THEN
        a_msg := m[1];
        d := regexp_replace(d, '^Remote detail: ', '');
        h := regexp_replace(h, '^Remote hint: ', '');
    END IF;
    IF d = '' AND h = '' THEN
        RAISE EXCEPTION USING ERRCODE = a_state, MESSAGE = a_msg;
    ELSIF h = '' THEN
        RAISE EXCEPTION USING ERRCODE = a_state, MESSAGE = a_msg, DETAIL = d;
    ELSIF d = '' THEN
        RAISE EXCEPTION USING ERRCODE = a_state, MESSAGE = a_msg, HINT = h;
    END IF;
    RAISE EXCEPTION USING ERRCODE = a_state, MESSAGE = a_msg, DETAIL = d, HINT = h;
END $$;

-- msg_ids of spread queues: local id * 1024 + shard.
CREATE FUNCTION pgmq_router.spread_id(a_local bigint, a_shard integer) RETURNS bigint
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a_local * 1024 + a_shard
$$;

-- ---------------------------------------------------------------------------
-- Shard calls: one PL/Proxy function per remote call, run on shard a_shard
-- (PL/Proxy maps the value with & (N - 1), so 0 .. N-1 is that shard).

-- queue management
CREATE FUNCTION pgmq_router.s_create(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.create(a_q);
$$;
CREATE FUNCTION pgmq_router.s_create_unlogged(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.create_unlogged(a_q);
$$;
CREATE FUNCTION pgmq_router.s_create_partitioned(a_shard integer, a_q text, a_pi text, a_ri text, a_premake integer)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.create_partitioned(a_q, a_pi, a_ri, a_premake);
$$;
CREATE FUNCTION pgmq_router.s_queue_exists(a_shard integer, a_q text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT EXISTS (SELECT 1 FROM pgmq.meta m
                    WHERE pg_catalog.lower(m.queue_name) OPERATOR(pg_catalog.=) pg_catalog.lower(a_q));
$$;
CREATE FUNCTION pgmq_router.s_drop_queue(a_shard integer, a_q text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.drop_queue(a_q);
$$;
CREATE FUNCTION pgmq_router.s_drop_queue2(a_shard integer, a_q text, a_part boolean) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.drop_queue(a_q, a_part);
$$;
CREATE FUNCTION pgmq_router.s_purge_queue(a_shard integer, a_q text) RETURNS bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.purge_queue(a_q);
$$;
CREATE FUNCTION pgmq_router.s_detach_archive(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.detach_archive(a_q);
$$;
CREATE FUNCTION pgmq_router.s_list_queues(a_shard integer) RETURNS SETOF pgmq.queue_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, is_partitioned, is_unlogged, created_at FROM pgmq.list_queues();
$$;
-- metrics through jsonb, so shards whose metrics_result lacks a column still answer
CREATE FUNCTION pgmq_router.s_metrics(a_shard integer, a_q text) RETURNS SETOF pgmq.metrics_result LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT (j OPERATOR(pg_catalog.->>) 'queue_name') AS queue_name,
           (j OPERATOR(pg_catalog.->>) 'queue_length')::pg_catalog.int8 AS queue_length,
           (j OPERATOR(pg_catalog.->>) 'newest_msg_age_sec')::pg_catalog.int4 AS newest_msg_age_sec,
           (j OPERATOR(pg_catalog.->>) 'oldest_msg_age_sec')::pg_catalog.int4 AS oldest_msg_age_sec,
           (j OPERATOR(pg_catalog.->>) 'total_messages')::pg_catalog.int8 AS total_messages,
           (j OPERATOR(pg_catalog.->>) 'scrape_time')::pg_catalog.timestamptz AS scrape_time,
           (j OPERATOR(pg_catalog.->>) 'queue_visible_length')::pg_catalog.int8 AS queue_visible_length,
           (j OPERATOR(pg_catalog.->>) 'default_partition_length')::pg_catalog.int8 AS default_partition_length,
           (j OPERATOR(pg_catalog.->>) 'dead_lettered')::pg_catalog.int8 AS dead_lettered,
           (j OPERATOR(pg_catalog.->>) 'retention_expired')::pg_catalog.int8 AS retention_expired
      FROM pgmq.metrics(a_q) m, pg_catalog.to_jsonb(m) j;
$$;
CREATE FUNCTION pgmq_router.s_metrics_all(a_shard integer) RETURNS SETOF pgmq.metrics_result LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT (j OPERATOR(pg_catalog.->>) 'queue_name') AS queue_name,
           (j OPERATOR(pg_catalog.->>) 'queue_length')::pg_catalog.int8 AS queue_length,
           (j OPERATOR(pg_catalog.->>) 'newest_msg_age_sec')::pg_catalog.int4 AS newest_msg_age_sec,
           (j OPERATOR(pg_catalog.->>) 'oldest_msg_age_sec')::pg_catalog.int4 AS oldest_msg_age_sec,
           (j OPERATOR(pg_catalog.->>) 'total_messages')::pg_catalog.int8 AS total_messages,
           (j OPERATOR(pg_catalog.->>) 'scrape_time')::pg_catalog.timestamptz AS scrape_time,
           (j OPERATOR(pg_catalog.->>) 'queue_visible_length')::pg_catalog.int8 AS queue_visible_length,
           (j OPERATOR(pg_catalog.->>) 'default_partition_length')::pg_catalog.int8 AS default_partition_length,
           (j OPERATOR(pg_catalog.->>) 'dead_lettered')::pg_catalog.int8 AS dead_lettered,
           (j OPERATOR(pg_catalog.->>) 'retention_expired')::pg_catalog.int8 AS retention_expired
      FROM pgmq.metrics_all() m, pg_catalog.to_jsonb(m) j;
$$;
CREATE FUNCTION pgmq_router.s_validate_queue_name(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.validate_queue_name(a_q);
$$;
CREATE FUNCTION pgmq_router.s_format_table_name(a_shard integer, a_q text, a_prefix text) RETURNS text LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.format_table_name(a_q, a_prefix);
$$;
CREATE FUNCTION pgmq_router.s_acquire_queue_lock(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.acquire_queue_lock(a_q);
$$;
CREATE FUNCTION pgmq_router.s_convert_archive_partitioned(a_shard integer, a_t text, a_pi text, a_ri text, a_lp integer)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.convert_archive_partitioned(a_t, a_pi, a_ri, a_lp);
$$;

-- sending
CREATE FUNCTION pgmq_router.s_send(a_shard integer, a_q text, a_msg jsonb, a_headers jsonb, a_delay integer)
RETURNS SETOF bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT s FROM pgmq.send(a_q, a_msg, a_headers, a_delay) s;
$$;
CREATE FUNCTION pgmq_router.s_send_at(a_shard integer, a_q text, a_msg jsonb, a_headers jsonb, a_delay timestamptz)
RETURNS SETOF bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT s FROM pgmq.send(a_q, a_msg, a_headers, a_delay) s;
$$;
CREATE FUNCTION pgmq_router.s_send_batch(a_shard integer, a_q text, a_msgs jsonb[], a_headers jsonb[], a_delay integer)
RETURNS SETOF bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT s FROM pgmq.send_batch(a_q, a_msgs, a_headers, a_delay) s;
$$;
CREATE FUNCTION pgmq_router.s_send_batch_at(a_shard integer, a_q text, a_msgs jsonb[], a_headers jsonb[], a_delay timestamptz)
RETURNS SETOF bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT s FROM pgmq.send_batch(a_q, a_msgs, a_headers, a_delay) s;
$$;

-- consuming
CREATE FUNCTION pgmq_router.s_read(a_shard integer, a_q text, a_vt integer, a_qty integer, a_cond jsonb)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read(a_q, a_vt, a_qty, a_cond);
$$;
CREATE FUNCTION pgmq_router.s_read_with_poll(a_shard integer, a_q text, a_vt integer, a_qty integer,
                                             a_mps integer, a_pim integer, a_cond jsonb)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers
      FROM pgmq.read_with_poll(a_q, a_vt, a_qty, a_mps, a_pim, a_cond);
$$;
CREATE FUNCTION pgmq_router.s_pop(a_shard integer, a_q text, a_qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.pop(a_q, a_qty);
$$;
CREATE FUNCTION pgmq_router.s_read_grouped(a_shard integer, a_q text, a_vt integer, a_qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read_grouped(a_q, a_vt, a_qty);
$$;
CREATE FUNCTION pgmq_router.s_read_grouped_with_poll(a_shard integer, a_q text, a_vt integer, a_qty integer,
                                                     a_mps integer, a_pim integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers
      FROM pgmq.read_grouped_with_poll(a_q, a_vt, a_qty, a_mps, a_pim);
$$;
CREATE FUNCTION pgmq_router.s_read_grouped_rr(a_shard integer, a_q text, a_vt integer, a_qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read_grouped_rr(a_q, a_vt, a_qty);
$$;
CREATE FUNCTION pgmq_router.s_read_grouped_rr_with_poll(a_shard integer, a_q text, a_vt integer, a_qty integer,
                                                        a_mps integer, a_pim integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers
      FROM pgmq.read_grouped_rr_with_poll(a_q, a_vt, a_qty, a_mps, a_pim);
$$;
CREATE FUNCTION pgmq_router.s_read_grouped_head(a_shard integer, a_q text, a_vt integer, a_qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read_grouped_head(a_q, a_vt, a_qty);
$$;
CREATE FUNCTION pgmq_router.s_read_grouped_head_with_poll(a_shard integer, a_q text, a_vt integer, a_qty integer,
                                                          a_mps integer, a_pim integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers
      FROM pgmq.read_grouped_head_with_poll(a_q, a_vt, a_qty, a_mps, a_pim);
$$;
CREATE FUNCTION pgmq_router.s_set_vt1(a_shard integer, a_q text, a_id bigint, a_vt integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.set_vt(a_q, a_id, a_vt);
$$;
CREATE FUNCTION pgmq_router.s_set_vt1_at(a_shard integer, a_q text, a_id bigint, a_vt timestamptz)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.set_vt(a_q, a_id, a_vt);
$$;
CREATE FUNCTION pgmq_router.s_set_vt(a_shard integer, a_q text, a_ids bigint[], a_vt integer)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.set_vt(a_q, a_ids, a_vt);
$$;
CREATE FUNCTION pgmq_router.s_set_vt_at(a_shard integer, a_q text, a_ids bigint[], a_vt timestamptz)
RETURNS SETOF pgmq.message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.set_vt(a_q, a_ids, a_vt);
$$;
CREATE FUNCTION pgmq_router.s_delete1(a_shard integer, a_q text, a_id bigint) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.delete(a_q, a_id);
$$;
CREATE FUNCTION pgmq_router.s_delete(a_shard integer, a_q text, a_ids bigint[]) RETURNS SETOF bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT d FROM pgmq.delete(a_q, a_ids) d;
$$;
CREATE FUNCTION pgmq_router.s_archive1(a_shard integer, a_q text, a_id bigint) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.archive(a_q, a_id);
$$;
CREATE FUNCTION pgmq_router.s_archive(a_shard integer, a_q text, a_ids bigint[]) RETURNS SETOF bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT d FROM pgmq.archive(a_q, a_ids) d;
$$;

-- FIFO indexes
CREATE FUNCTION pgmq_router.s_create_fifo_index(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.create_fifo_index(a_q);
$$;
CREATE FUNCTION pgmq_router.s_create_fifo_indexes_all(a_shard integer) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.create_fifo_indexes_all();
$$;

-- topics
CREATE FUNCTION pgmq_router.s_bind_topic(a_shard integer, a_p text, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.bind_topic(a_p, a_q);
$$;
CREATE FUNCTION pgmq_router.s_unbind_topic(a_shard integer, a_p text, a_q text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.unbind_topic(a_p, a_q);
$$;
CREATE FUNCTION pgmq_router.s_send_topic(a_shard integer, a_key text, a_msg jsonb, a_headers jsonb, a_delay integer)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.send_topic(a_key, a_msg, a_headers, a_delay);
$$;
CREATE FUNCTION pgmq_router.s_send_batch_topic(a_shard integer, a_key text, a_msgs jsonb[], a_headers jsonb[], a_delay integer)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, msg_id FROM pgmq.send_batch_topic(a_key, a_msgs, a_headers, a_delay);
$$;
CREATE FUNCTION pgmq_router.s_send_batch_topic_at(a_shard integer, a_key text, a_msgs jsonb[], a_headers jsonb[],
                                                  a_delay timestamptz)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, msg_id FROM pgmq.send_batch_topic(a_key, a_msgs, a_headers, a_delay);
$$;
CREATE FUNCTION pgmq_router.s_test_routing(a_shard integer, a_key text)
RETURNS TABLE (pattern text, queue_name text, compiled_regex text) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pattern, queue_name, compiled_regex FROM pgmq.test_routing(a_key);
$$;
CREATE FUNCTION pgmq_router.s_list_topic_bindings(a_shard integer)
RETURNS TABLE (pattern text, queue_name text, bound_at timestamptz, compiled_regex text) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pattern, queue_name, bound_at, compiled_regex FROM pgmq.list_topic_bindings();
$$;
CREATE FUNCTION pgmq_router.s_list_topic_bindings_q(a_shard integer, a_q text)
RETURNS TABLE (pattern text, queue_name text, bound_at timestamptz, compiled_regex text) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pattern, queue_name, bound_at, compiled_regex FROM pgmq.list_topic_bindings(a_q);
$$;
CREATE FUNCTION pgmq_router.s_validate_routing_key(a_shard integer, a_key text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.validate_routing_key(a_key);
$$;
CREATE FUNCTION pgmq_router.s_validate_topic_pattern(a_shard integer, a_p text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.validate_topic_pattern(a_p);
$$;

-- insert notifications
CREATE FUNCTION pgmq_router.s_enable_notify_insert(a_shard integer, a_q text, a_t integer) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.enable_notify_insert(a_q, a_t);
$$;
CREATE FUNCTION pgmq_router.s_disable_notify_insert(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.disable_notify_insert(a_q);
$$;
CREATE FUNCTION pgmq_router.s_update_notify_insert(a_shard integer, a_q text, a_t integer) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.update_notify_insert(a_q, a_t);
$$;
CREATE FUNCTION pgmq_router.s_list_notify_insert_throttles(a_shard integer)
RETURNS TABLE (queue_name text, throttle_interval_ms integer, last_notified_at timestamptz) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, throttle_interval_ms, last_notified_at FROM pgmq.list_notify_insert_throttles();
$$;

-- dead-letter queues
CREATE FUNCTION pgmq_router.s_set_dead_letter_queue(a_shard integer, a_q text, a_dlq text, a_n integer)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.set_dead_letter_queue(a_q, a_dlq, a_n);
$$;
CREATE FUNCTION pgmq_router.s_clear_dead_letter_queue(a_shard integer, a_q text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.clear_dead_letter_queue(a_q);
$$;
CREATE FUNCTION pgmq_router.s_list_dead_letter_policies(a_shard integer)
RETURNS TABLE (queue_name text, dead_letter_queue text, max_read_ct integer) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, dead_letter_queue, max_read_ct FROM pgmq.list_dead_letter_policies();
$$;
CREATE FUNCTION pgmq_router.s_redrive(a_shard integer, a_dlq text, a_q text, a_qty integer) RETURNS bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.redrive(a_dlq, a_q, a_qty);
$$;

-- ---------------------------------------------------------------------------
-- Calls that are not on the message path run through one helper: a_sql
-- (with $1 = shard, $2 = queue, $3 integer, $4 text, $5 boolean, $6, $7 text) runs on
-- every shard the queue has a part on; each shard's result comes back as text.
CREATE FUNCTION pgmq_router.run_q(a_q text, a_sql text, a_int integer DEFAULT NULL, a_text text DEFAULT NULL,
                                  a_bool boolean DEFAULT NULL, a_text2 text DEFAULT NULL, a_text3 text DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sh integer;
    res text;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    FOREACH sh IN ARRAY pgmq_router.shards_of(a_q) LOOP
        BEGIN
            EXECUTE a_sql INTO res USING sh, a_q, a_int, a_text, a_bool, a_text2, a_text3;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
        RETURN NEXT res;
    END LOOP;
END $$;

-- The same on every shard of the cluster, returning rows as jsonb
-- (a_sql: $1 = shard, $2 text argument; it returns a set).
CREATE FUNCTION pgmq_router.run_all(a_sql text, a_text text DEFAULT NULL)
RETURNS TABLE (shard integer, j jsonb) LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sh integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    FOR sh IN 0 .. pgmq_router.shard_count() - 1 LOOP
        BEGIN
            RETURN QUERY EXECUTE 'SELECT $1, pg_catalog.to_jsonb(x) FROM (' || a_sql || ') x' USING sh, a_text;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
END $$;

-- A call with no queue (validators): the first shard that answers.
CREATE FUNCTION pgmq_router.run_any(a_sql text, a_text text, a_text2 text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer := pgmq_router.shard_count();
    sh integer;
    res text;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    FOR i IN 0 .. n - 1 LOOP
        sh := i;
        BEGIN
            EXECUTE a_sql INTO res USING sh, a_text, a_text2;
            RETURN res;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            IF pgmq_router.failure_kind(e1, e2) IS NULL OR i = n - 1 THEN
                PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
            END IF;
        END;
    END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- The pgmq API: queue management

CREATE FUNCTION pgmq.create(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_create($1, $2)::text');
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.create_non_partitioned(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq.create($1);
$$;
CREATE FUNCTION pgmq.create_unlogged(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_create_unlogged($1, $2)::text');
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.create_partitioned(queue_name text, partition_interval text DEFAULT '10000',
                                        retention_interval text DEFAULT '100000', premake integer DEFAULT 4)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1,
        'SELECT pgmq_router.s_create_partitioned($1, $2, $4, $6, $3)::text',
        a_int => $4, a_text => $2, a_text2 => $3);
    SELECT NULL::void;
$$;

-- Dropping a spread queue drops every part and forgets it.
CREATE FUNCTION pgmq.drop_queue(queue_name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped boolean;
BEGIN
    SELECT bool_or(r::boolean) INTO dropped
      FROM pgmq_router.run_q(queue_name, 'SELECT pgmq_router.s_drop_queue($1, $2)::text') r;
    DELETE FROM pgmq_router.spread_queue s WHERE s.queue_name = lower(drop_queue.queue_name);
    RETURN dropped;
END $$;
CREATE FUNCTION pgmq.drop_queue(queue_name text, partitioned boolean) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dropped boolean;
BEGIN
    SELECT bool_or(r::boolean) INTO dropped
      FROM pgmq_router.run_q(queue_name, 'SELECT pgmq_router.s_drop_queue2($1, $2, $5)::text', a_bool => partitioned) r;
    DELETE FROM pgmq_router.spread_queue s WHERE s.queue_name = lower(drop_queue.queue_name);
    RETURN dropped;
END $$;

CREATE FUNCTION pgmq.purge_queue(queue_name text) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT sum(r::bigint)::bigint FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_purge_queue($1, $2)::text') r;
$$;
CREATE FUNCTION pgmq.detach_archive(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_detach_archive($1, $2)::text');
    SELECT NULL::void;
$$;

-- One row per queue of the cluster (a spread queue once).
CREATE FUNCTION pgmq.list_queues() RETURNS SETOF pgmq.queue_record
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT ON (lower(j->>'queue_name'))
           (j->>'queue_name')::varchar, (j->>'is_partitioned')::boolean, (j->>'is_unlogged')::boolean,
           (j->>'created_at')::timestamptz
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_list_queues($1)')
     ORDER BY lower(j->>'queue_name'), (j->>'created_at')::timestamptz;
$$;

-- Clients that look up pgmq.meta directly see every queue of the cluster.
CREATE VIEW pgmq.meta AS
    SELECT queue_name, is_partitioned, is_unlogged, created_at FROM pgmq.list_queues();
GRANT SELECT ON pgmq.meta TO PUBLIC;

-- Sum of the parts of a spread queue (a part on a shard that is down is
-- left out, with a WARNING naming the shard).
CREATE FUNCTION pgmq_router.sum_metrics(a_rows pgmq.metrics_result[]) RETURNS pgmq.metrics_result
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ROW(min(m.queue_name), sum(m.queue_length)::bigint, min(m.newest_msg_age_sec), max(m.oldest_msg_age_sec),
               sum(m.total_messages)::bigint, max(m.scrape_time), sum(m.queue_visible_length)::bigint,
               sum(m.default_partition_length)::bigint, sum(m.dead_lettered)::bigint,
               sum(m.retention_expired)::bigint)::pgmq.metrics_result
      FROM unnest(a_rows) m
$$;

CREATE FUNCTION pgmq.metrics(queue_name text) RETURNS pgmq.metrics_result
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    parts pgmq.metrics_result[] := '{}';
    m pgmq.metrics_result;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF NOT r.spread THEN
        BEGIN
            SELECT * INTO m FROM pgmq_router.s_metrics(r.shard, queue_name);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
        END;
        RETURN m;
    END IF;
    FOR sh IN 0 .. r.nshards - 1 LOOP
        BEGIN
            SELECT * INTO m FROM pgmq_router.s_metrics(sh, queue_name);
            parts := parts || m;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            IF pgmq_router.failure_kind(e1, e2) IS NULL THEN
                PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
            END IF;
            RAISE WARNING 'metrics of spread queue "%" leave out shard %, which is unavailable',
                          queue_name, pgmq_router.shard_label(sh);
        END;
    END LOOP;
    IF cardinality(parts) = 0 THEN
        RAISE EXCEPTION 'no shard of cluster pgmq_cluster is available' USING ERRCODE = '08006';
    END IF;
    RETURN pgmq_router.sum_metrics(parts);
END $$;

CREATE FUNCTION pgmq.metrics_all() RETURNS SETOF pgmq.metrics_result
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT (pgmq_router.sum_metrics(array_agg(jsonb_populate_record(NULL::pgmq.metrics_result, j)))).*
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_metrics_all($1)')
     GROUP BY lower(j->>'queue_name')
     ORDER BY lower(j->>'queue_name');
$$;

CREATE FUNCTION pgmq.validate_queue_name(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.run_any('SELECT pgmq_router.s_validate_queue_name($1, $2)::text', $1);
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.format_table_name(queue_name text, prefix text) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.run_any('SELECT pgmq_router.s_format_table_name($1, $2, $3)', $1, $2);
$$;

-- The shard checks the name and the queue; the lock itself is taken here,
-- on the router, for the rest of the caller's transaction.
CREATE FUNCTION pgmq.acquire_queue_lock(queue_name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pgmq_router.run_q(queue_name, 'SELECT pgmq_router.s_acquire_queue_lock($1, $2)::text');
    PERFORM pg_advisory_xact_lock(hashtext('pgmq_router.queue_lock'), hashtext(lower(queue_name)));
END $$;

-- The table is on the shard of the queue named after its a_/q_ prefix.
CREATE FUNCTION pgmq.convert_archive_partitioned(table_name text, partition_interval text DEFAULT '10000',
                                                 retention_interval text DEFAULT '100000',
                                                 leading_partition integer DEFAULT 10)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q(regexp_replace($1, '^[aAqQ]_', ''),
        'SELECT pgmq_router.s_convert_archive_partitioned($1, $4, $6, $7, $3)::text',
        a_int => $4, a_text => $1, a_text2 => $2, a_text3 => $3);
    SELECT NULL::void;
$$;

-- ---------------------------------------------------------------------------
-- Sending

-- One message.  Placed queue: its shard.  Spread queue: the shard of its
-- x-pgmq-group (that shard down is an error: the group's order lives there),
-- else of its x-pgmq-dedup-id (the ids of a deduplication window live on
-- one shard: a repeated id must reach the shard that has it), else the
-- shards in turn, skipping a shard the call could not reach.
CREATE FUNCTION pgmq_router.send_one(a_q text, a_msg jsonb, a_headers jsonb, a_delay integer, a_at timestamptz,
                                     a_use_at boolean)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    sh integer;
    start integer;
    grp text;
    id bigint;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(a_q);
    IF NOT r.spread THEN
        sh := r.shard;
        BEGIN
            IF a_use_at THEN
                RETURN QUERY SELECT * FROM pgmq_router.s_send_at(sh, a_q, a_msg, a_headers, a_at);
            ELSE
                RETURN QUERY SELECT * FROM pgmq_router.s_send(sh, a_q, a_msg, a_headers, a_delay);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
        RETURN;
    END IF;
    IF jsonb_typeof(a_headers) = 'object' THEN
        grp := coalesce(a_headers->>'x-pgmq-group', a_headers->>'x-pgmq-dedup-id');
    END IF;
    IF grp IS NOT NULL THEN
        start := pgmq_router.group_shard(grp, r.nshards);
    ELSE
        start := pgmq_router.next_turn(r.nshards);
    END IF;
    FOR i IN 0 .. r.nshards - 1 LOOP
        sh := (start + i) % r.nshards;
        BEGIN
            IF a_use_at THEN
                id := pgmq_router.s_send_at(sh, a_q, a_msg, a_headers, a_at);
            ELSE
                id := pgmq_router.s_send(sh, a_q, a_msg, a_headers, a_delay);
            END IF;
            RETURN NEXT pgmq_router.spread_id(id, sh);
            RETURN;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            IF grp IS NOT NULL OR pgmq_router.failure_kind(e1, e2) IS DISTINCT FROM 'unsent' THEN
                PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
            END IF;
        END;
    END LOOP;
    RAISE EXCEPTION 'no shard of cluster pgmq_cluster is available for spread queue "%"', a_q USING ERRCODE = '08006';
END $$;

-- A batch.  Spread queue: the whole batch to one shard in turn, unless some
-- message has an x-pgmq-group or x-pgmq-dedup-id header: then each message
-- to its shard, ids in input order (such a batch is not atomic across
-- shards).
CREATE FUNCTION pgmq_router.send_many(a_q text, a_msgs jsonb[], a_headers jsonb[], a_delay integer, a_at timestamptz,
                                      a_use_at boolean)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    sh integer;
    start integer;
    ids bigint[];
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(a_q);
    IF NOT r.spread THEN
        sh := r.shard;
        BEGIN
            IF a_use_at THEN
                RETURN QUERY SELECT * FROM pgmq_router.s_send_batch_at(sh, a_q, a_msgs, a_headers, a_at);
            ELSE
                RETURN QUERY SELECT * FROM pgmq_router.s_send_batch(sh, a_q, a_msgs, a_headers, a_delay);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
        RETURN;
    END IF;
    IF a_headers IS NOT NULL AND array_ndims(a_headers) = 1 AND array_ndims(a_msgs) = 1
       AND cardinality(a_headers) = cardinality(a_msgs) AND array_position(a_msgs, NULL) IS NULL
       AND EXISTS (SELECT 1 FROM unnest(a_headers) h
                    WHERE jsonb_typeof(h) = 'object'
                      AND (h->>'x-pgmq-group' IS NOT NULL OR h->>'x-pgmq-dedup-id' IS NOT NULL)) THEN
        FOR i IN 1 .. cardinality(a_msgs) LOOP
            RETURN QUERY SELECT * FROM pgmq_router.send_one(a_q, a_msgs[i], a_headers[i], a_delay, a_at, a_use_at);
        END LOOP;
        RETURN;
    END IF;
    start := pgmq_router.next_turn(r.nshards);
    FOR i IN 0 .. r.nshards - 1 LOOP
        sh := (start + i) % r.nshards;
        BEGIN
            IF a_use_at THEN
                ids := ARRAY(SELECT pgmq_router.s_send_batch_at(sh, a_q, a_msgs, a_headers, a_at));
            ELSE
                ids := ARRAY(SELECT pgmq_router.s_send_batch(sh, a_q, a_msgs, a_headers, a_delay));
            END IF;
            RETURN QUERY SELECT pgmq_router.spread_id(u.id, sh) FROM unnest(ids) WITH ORDINALITY u(id, o) ORDER BY u.o;
            RETURN;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            IF pgmq_router.failure_kind(e1, e2) IS DISTINCT FROM 'unsent' THEN
                PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
            END IF;
        END;
    END LOOP;
    RAISE EXCEPTION 'no shard of cluster pgmq_cluster is available for spread queue "%"', a_q USING ERRCODE = '08006';
END $$;

-- The public send functions: placed queues straight to their shard, spread
-- queues through send_one / send_many.

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_one(queue_name, msg, NULL::jsonb, 0, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send(r.shard, queue_name, msg, NULL::jsonb, 0);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, delay integer) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_one(queue_name, msg, NULL::jsonb, delay, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send(r.shard, queue_name, msg, NULL::jsonb, delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, delay timestamp with time zone) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_one(queue_name, msg, NULL::jsonb, NULL, delay, true);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_at(r.shard, queue_name, msg, NULL::jsonb, delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, headers jsonb) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_one(queue_name, msg, headers, 0, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send(r.shard, queue_name, msg, headers, 0);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, headers jsonb, delay integer) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_one(queue_name, msg, headers, delay, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send(r.shard, queue_name, msg, headers, delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, headers jsonb, delay timestamp with time zone) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_one(queue_name, msg, headers, NULL, delay, true);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_at(r.shard, queue_name, msg, headers, delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[]) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_many(queue_name, msgs, NULL::jsonb[], 0, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_batch(r.shard, queue_name, msgs, NULL::jsonb[], 0);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], delay integer) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_many(queue_name, msgs, NULL::jsonb[], delay, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_batch(r.shard, queue_name, msgs, NULL::jsonb[], delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], delay timestamp with time zone) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_many(queue_name, msgs, NULL::jsonb[], NULL, delay, true);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_batch_at(r.shard, queue_name, msgs, NULL::jsonb[], delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[]) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_many(queue_name, msgs, headers, 0, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_batch(r.shard, queue_name, msgs, headers, 0);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay integer) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_many(queue_name, msgs, headers, delay, NULL, false);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_batch(r.shard, queue_name, msgs, headers, delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.send_batch(queue_name text, msgs jsonb[], headers jsonb[], delay timestamp with time zone) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.send_many(queue_name, msgs, headers, NULL, delay, true);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_send_batch_at(r.shard, queue_name, msgs, headers, delay);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

-- ---------------------------------------------------------------------------
-- Consuming

-- One read call of the given kind on one shard.
CREATE FUNCTION pgmq_router.read_on(a_kind text, a_shard integer, a_q text, a_vt integer, a_qty integer, a_cond jsonb,
                                    a_mps integer, a_pim integer)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    CASE a_kind
    WHEN 'read' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read(a_shard, a_q, a_vt, a_qty, a_cond);
    WHEN 'read_with_poll' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_with_poll(a_shard, a_q, a_vt, a_qty, a_mps, a_pim, a_cond);
    WHEN 'pop' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_pop(a_shard, a_q, a_qty);
    WHEN 'read_grouped' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped(a_shard, a_q, a_vt, a_qty);
    WHEN 'read_grouped_with_poll' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_with_poll(a_shard, a_q, a_vt, a_qty, a_mps, a_pim);
    WHEN 'read_grouped_rr' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_rr(a_shard, a_q, a_vt, a_qty);
    WHEN 'read_grouped_rr_with_poll' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_rr_with_poll(a_shard, a_q, a_vt, a_qty, a_mps, a_pim);
    WHEN 'read_grouped_head' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_head(a_shard, a_q, a_vt, a_qty);
    WHEN 'read_grouped_head_with_poll' THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_head_with_poll(a_shard, a_q, a_vt, a_qty, a_mps, a_pim);
    END CASE;
END $$;

-- Reads of a spread queue: the shards in turn until qty is filled; a shard
-- that cannot be reached is skipped (a pop whose outcome is unknown is an
-- error: the messages may have been deleted).  The _with_poll kinds ask each
-- shard without waiting and wait here, polling every poll_interval_ms.
CREATE FUNCTION pgmq_router.spread_read(a_kind text, a_q text, a_vt integer, a_qty integer, a_cond jsonb,
                                        a_mps integer, a_pim integer)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer := pgmq_router.shard_count();
    poll boolean := a_kind LIKE '%\_with\_poll';
    deadline timestamptz;
    start integer;
    sh integer;
    got integer;
    k integer;
    down integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    IF poll THEN
        IF a_mps IS NULL OR a_mps < 0 THEN
            -- the shard reports the bad argument
            BEGIN
                RETURN QUERY SELECT * FROM pgmq_router.read_on(a_kind, 0, a_q, a_vt, a_qty, a_cond, a_mps, a_pim);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
                PERFORM pgmq_router.fail(0, e1, e2, e3, e4);
            END;
            RETURN;
        END IF;
        deadline := clock_timestamp() + make_interval(secs => a_mps);
    END IF;
    LOOP
        got := 0;
        down := 0;
        start := pgmq_router.next_turn(n);
        FOR i IN 0 .. n - 1 LOOP
            sh := (start + i) % n;
            BEGIN
                RETURN QUERY
                    SELECT pgmq_router.spread_id(m.msg_id, sh), m.read_ct, m.enqueued_at, m.last_read_at, m.vt,
                           m.message, m.headers
                      FROM pgmq_router.read_on(a_kind, sh, a_q, a_vt, a_qty - got, a_cond, 0, a_pim) m;
                GET DIAGNOSTICS k = ROW_COUNT;
                got := got + k;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
                IF pgmq_router.failure_kind(e1, e2) IS NULL
                   OR (a_kind = 'pop' AND pgmq_router.failure_kind(e1, e2) = 'unknown') THEN
                    PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
                END IF;
                down := down + 1;
            END;
            EXIT WHEN got >= a_qty;
        END LOOP;
        IF down = n THEN
            RAISE EXCEPTION 'no shard of cluster pgmq_cluster is available for spread queue "%"', a_q
                USING ERRCODE = '08006';
        END IF;
        EXIT WHEN got > 0 OR NOT poll OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(greatest(0, least(a_pim / 1000.0,
                                           extract(epoch FROM deadline - clock_timestamp()))));
    END LOOP;
END $$;

CREATE FUNCTION pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb DEFAULT '{}')
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read', queue_name, vt, qty, conditional, NULL, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read(r.shard, queue_name, vt, qty, conditional);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100, conditional jsonb DEFAULT '{}')
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_with_poll', queue_name, vt, qty, conditional, max_poll_seconds, poll_interval_ms);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_with_poll(r.shard, queue_name, vt, qty, max_poll_seconds, poll_interval_ms, conditional);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.pop(queue_name text, qty integer DEFAULT 1)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('pop', queue_name, NULL, qty, NULL, NULL, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_pop(r.shard, queue_name, qty);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_grouped(queue_name text, vt integer, qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_grouped', queue_name, vt, qty, NULL, NULL, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped(r.shard, queue_name, vt, qty);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_grouped_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_grouped_with_poll', queue_name, vt, qty, NULL, max_poll_seconds, poll_interval_ms);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_with_poll(r.shard, queue_name, vt, qty, max_poll_seconds, poll_interval_ms);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_grouped_rr(queue_name text, vt integer, qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_grouped_rr', queue_name, vt, qty, NULL, NULL, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_rr(r.shard, queue_name, vt, qty);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_grouped_rr_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_grouped_rr_with_poll', queue_name, vt, qty, NULL, max_poll_seconds, poll_interval_ms);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_rr_with_poll(r.shard, queue_name, vt, qty, max_poll_seconds, poll_interval_ms);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_grouped_head(queue_name text, vt integer, qty integer)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_grouped_head', queue_name, vt, qty, NULL, NULL, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_head(r.shard, queue_name, vt, qty);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.read_grouped_head_with_poll(queue_name text, vt integer, qty integer, max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.spread_read('read_grouped_head_with_poll', queue_name, vt, qty, NULL, max_poll_seconds, poll_interval_ms);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_grouped_head_with_poll(r.shard, queue_name, vt, qty, max_poll_seconds, poll_interval_ms);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

-- ---------------------------------------------------------------------------
-- set_vt, delete, archive.  A spread queue's msg_id names its shard
-- (msg_id % 1024): each id goes straight there; ids naming no shard of the
-- cluster are unknown ids.  Arrays the shard would refuse (NULL, NULL
-- elements, several dimensions) go to a shard as they are, for its error.

-- (shard, local ids in input order) for the spread ids of an array
CREATE FUNCTION pgmq_router.split_ids(a_ids bigint[], a_nshards integer)
RETURNS TABLE (shard integer, ids bigint[]) LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT (u.i % 1024)::integer, array_agg(u.i / 1024 ORDER BY u.o)
      FROM unnest(a_ids) WITH ORDINALITY u(i, o)
     WHERE u.i >= 0 AND u.i % 1024 < a_nshards
     GROUP BY 1 ORDER BY 1
$$;

CREATE FUNCTION pgmq_router.ids_passable(a_ids bigint[]) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT a_ids IS NOT NULL AND coalesce(array_ndims(a_ids), 1) = 1 AND array_position(a_ids, NULL) IS NULL
$$;

-- The call a_kind ('set_vt', 'set_vt_at', 'delete', 'archive') for one id.
CREATE FUNCTION pgmq_router.by_id(a_kind text, a_q text, a_id bigint, a_vt integer, a_at timestamptz)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    sh integer;
    id bigint := a_id;
    ok boolean;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(a_q);
    sh := r.shard;
    IF r.spread AND a_id IS NOT NULL THEN
        IF a_id < 0 OR a_id % 1024 >= r.nshards THEN
            IF a_kind IN ('delete', 'archive') THEN
                RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::timestamptz, NULL::timestamptz,
                                    NULL::timestamptz, NULL::jsonb, 'false'::jsonb;
            END IF;
            RETURN;
        END IF;
        sh := (a_id % 1024)::integer;
        id := a_id / 1024;
    END IF;
    BEGIN
        IF a_kind = 'set_vt' THEN
            RETURN QUERY SELECT CASE WHEN r.spread THEN pgmq_router.spread_id(m.msg_id, sh) ELSE m.msg_id END,
                                m.read_ct, m.enqueued_at, m.last_read_at, m.vt, m.message, m.headers
                           FROM pgmq_router.s_set_vt1(sh, a_q, id, a_vt) m;
        ELSIF a_kind = 'set_vt_at' THEN
            RETURN QUERY SELECT CASE WHEN r.spread THEN pgmq_router.spread_id(m.msg_id, sh) ELSE m.msg_id END,
                                m.read_ct, m.enqueued_at, m.last_read_at, m.vt, m.message, m.headers
                           FROM pgmq_router.s_set_vt1_at(sh, a_q, id, a_at) m;
        ELSE
            IF a_kind = 'delete' THEN
                ok := pgmq_router.s_delete1(sh, a_q, id);
            ELSE
                ok := pgmq_router.s_archive1(sh, a_q, id);
            END IF;
            -- the boolean result travels in the headers column
            RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::timestamptz, NULL::timestamptz,
                                NULL::timestamptz, NULL::jsonb, to_jsonb(ok);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
    END;
END $$;

-- The same for an array of ids; delete/archive return the ids in msg_id.
CREATE FUNCTION pgmq_router.by_ids(a_kind text, a_q text, a_ids bigint[], a_vt integer, a_at timestamptz)
RETURNS SETOF pgmq.message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    part record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(a_q);
    FOR part IN
        SELECT r.shard AS shard, a_ids AS ids WHERE NOT r.spread OR NOT pgmq_router.ids_passable(a_ids)
        UNION ALL
        SELECT s.shard, s.ids FROM pgmq_router.split_ids(a_ids, r.nshards) s
         WHERE r.spread AND pgmq_router.ids_passable(a_ids)
    LOOP
        BEGIN
            IF a_kind = 'set_vt' THEN
                RETURN QUERY SELECT CASE WHEN r.spread THEN pgmq_router.spread_id(m.msg_id, part.shard) ELSE m.msg_id END,
                                    m.read_ct, m.enqueued_at, m.last_read_at, m.vt, m.message, m.headers
                               FROM pgmq_router.s_set_vt(part.shard, a_q, part.ids, a_vt) m;
            ELSIF a_kind = 'set_vt_at' THEN
                RETURN QUERY SELECT CASE WHEN r.spread THEN pgmq_router.spread_id(m.msg_id, part.shard) ELSE m.msg_id END,
                                    m.read_ct, m.enqueued_at, m.last_read_at, m.vt, m.message, m.headers
                               FROM pgmq_router.s_set_vt_at(part.shard, a_q, part.ids, a_at) m;
            ELSIF a_kind = 'delete' THEN
                RETURN QUERY SELECT CASE WHEN r.spread THEN pgmq_router.spread_id(d, part.shard) ELSE d END,
                                    NULL::integer, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
                                    NULL::jsonb, NULL::jsonb
                               FROM pgmq_router.s_delete(part.shard, a_q, part.ids) d;
            ELSE
                RETURN QUERY SELECT CASE WHEN r.spread THEN pgmq_router.spread_id(d, part.shard) ELSE d END,
                                    NULL::integer, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
                                    NULL::jsonb, NULL::jsonb
                               FROM pgmq_router.s_archive(part.shard, a_q, part.ids) d;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(part.shard, e1, e2, e3, e4);
        END;
    END LOOP;
END $$;

-- The public functions: placed queues straight to their shard, spread
-- queues through by_id / by_ids.

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_id bigint, vt integer) RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.by_id('set_vt', queue_name, msg_id, vt, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_set_vt1(r.shard, queue_name, msg_id, vt);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_id bigint, vt timestamp with time zone) RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.by_id('set_vt_at', queue_name, msg_id, NULL, vt);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_set_vt1_at(r.shard, queue_name, msg_id, vt);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_ids bigint[], vt integer) RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.by_ids('set_vt', queue_name, msg_ids, vt, NULL);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_set_vt(r.shard, queue_name, msg_ids, vt);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.set_vt(queue_name text, msg_ids bigint[], vt timestamp with time zone) RETURNS SETOF pgmq.message_record
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT * FROM pgmq_router.by_ids('set_vt_at', queue_name, msg_ids, NULL, vt);
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_set_vt_at(r.shard, queue_name, msg_ids, vt);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.delete(queue_name text, msg_id bigint) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN (SELECT b.headers::text::boolean FROM pgmq_router.by_id('delete', queue_name, msg_id, NULL, NULL) b);
    END IF;
    BEGIN
        RETURN pgmq_router.s_delete1(r.shard, queue_name, msg_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.delete(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT b.msg_id FROM pgmq_router.by_ids('delete', queue_name, msg_ids, NULL, NULL) b;
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_delete(r.shard, queue_name, msg_ids);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.archive(queue_name text, msg_id bigint) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN (SELECT b.headers::text::boolean FROM pgmq_router.by_id('archive', queue_name, msg_id, NULL, NULL) b);
    END IF;
    BEGIN
        RETURN pgmq_router.s_archive1(r.shard, queue_name, msg_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

CREATE FUNCTION pgmq.archive(queue_name text, msg_ids bigint[]) RETURNS SETOF bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    r := pgmq_router.route(queue_name);
    IF r.spread THEN
        RETURN QUERY SELECT b.msg_id FROM pgmq_router.by_ids('archive', queue_name, msg_ids, NULL, NULL) b;
        RETURN;
    END IF;
    BEGIN
        RETURN QUERY SELECT * FROM pgmq_router.s_archive(r.shard, queue_name, msg_ids);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(r.shard, e1, e2, e3, e4);
    END;
END $$;

-- ---------------------------------------------------------------------------
-- FIFO indexes
CREATE FUNCTION pgmq.create_fifo_index(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_create_fifo_index($1, $2)::text');
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.create_fifo_indexes_all() RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_all('SELECT pgmq_router.s_create_fifo_indexes_all($1)');
    SELECT NULL::void;
$$;

-- ---------------------------------------------------------------------------
-- Topics.  A queue's bindings live on its placement shard (a spread queue's
-- too, so a topic message reaches it once); a topic send runs on every shard
-- and adds up.  A topic send is one transaction per shard, not one overall.
CREATE FUNCTION pgmq.bind_topic(pattern text, queue_name text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sh integer := pgmq_router.placement(queue_name);
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    PERFORM pgmq_router.s_bind_topic(sh, pattern, queue_name);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
    PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
END $$;
CREATE FUNCTION pgmq.unbind_topic(pattern text, queue_name text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sh integer := pgmq_router.placement(queue_name);
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    RETURN pgmq_router.s_unbind_topic(sh, pattern, queue_name);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
    PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
END $$;

CREATE FUNCTION pgmq_router.topic_send(a_key text, a_msg jsonb, a_headers jsonb, a_delay integer) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    total integer := 0;
    sh integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    FOR i IN 0 .. pgmq_router.shard_count() - 1 LOOP
        sh := i;
        BEGIN
            total := total + pgmq_router.s_send_topic(sh, a_key, a_msg, a_headers, a_delay);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
    RETURN total;
END $$;
CREATE FUNCTION pgmq.send_topic(routing_key text, msg jsonb) RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.topic_send($1, $2, NULL, 0)
$$;
CREATE FUNCTION pgmq.send_topic(routing_key text, msg jsonb, delay integer) RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.topic_send($1, $2, NULL, $3)
$$;
CREATE FUNCTION pgmq.send_topic(routing_key text, msg jsonb, headers jsonb, delay integer) RETURNS integer
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.topic_send($1, $2, $3, $4)
$$;

CREATE FUNCTION pgmq_router.topic_send_batch(a_key text, a_msgs jsonb[], a_headers jsonb[], a_delay integer,
                                             a_at timestamptz, a_use_at boolean)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sh integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    FOR i IN 0 .. pgmq_router.shard_count() - 1 LOOP
        sh := i;
        BEGIN
            IF a_use_at THEN
                RETURN QUERY SELECT t.queue_name,
                                    CASE WHEN pgmq_router.is_spread(t.queue_name) THEN pgmq_router.spread_id(t.msg_id, sh)
                                         ELSE t.msg_id END
                               FROM pgmq_router.s_send_batch_topic_at(sh, a_key, a_msgs, a_headers, a_at) t;
            ELSE
                RETURN QUERY SELECT t.queue_name,
                                    CASE WHEN pgmq_router.is_spread(t.queue_name) THEN pgmq_router.spread_id(t.msg_id, sh)
                                         ELSE t.msg_id END
                               FROM pgmq_router.s_send_batch_topic(sh, a_key, a_msgs, a_headers, a_delay) t;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
END $$;
CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[])
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.topic_send_batch($1, $2, NULL, 0, NULL, false)
$$;
CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], delay integer)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.topic_send_batch($1, $2, NULL, $3, NULL, false)
$$;
CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], delay timestamp with time zone)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.topic_send_batch($1, $2, NULL, NULL, $3, true)
$$;
CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[])
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.topic_send_batch($1, $2, $3, 0, NULL, false)
$$;
CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[], delay integer)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.topic_send_batch($1, $2, $3, $4, NULL, false)
$$;
CREATE FUNCTION pgmq.send_batch_topic(routing_key text, msgs jsonb[], headers jsonb[], delay timestamp with time zone)
RETURNS TABLE (queue_name text, msg_id bigint) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.topic_send_batch($1, $2, $3, NULL, $4, true)
$$;

CREATE FUNCTION pgmq.test_routing(routing_key text)
RETURNS TABLE (pattern text, queue_name text, compiled_regex text) LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT j->>'pattern', j->>'queue_name', j->>'compiled_regex'
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_test_routing($1, $2)', $1)
     ORDER BY j->>'pattern', j->>'queue_name'
$$;
CREATE FUNCTION pgmq.list_topic_bindings()
RETURNS TABLE (pattern text, queue_name text, bound_at timestamp with time zone, compiled_regex text)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT j->>'pattern', j->>'queue_name', (j->>'bound_at')::timestamptz, j->>'compiled_regex'
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_list_topic_bindings($1)')
     ORDER BY (j->>'bound_at')::timestamptz DESC, j->>'pattern'
$$;
-- (plpgsql cannot have an argument and a result column of one name: the
-- public function is SQL over this one)
CREATE FUNCTION pgmq_router.bindings_of(a_q text)
RETURNS TABLE (pattern text, queue_name text, bound_at timestamp with time zone, compiled_regex text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sh integer := pgmq_router.placement(a_q);
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    RETURN QUERY SELECT * FROM pgmq_router.s_list_topic_bindings_q(sh, a_q);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
    PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
END $$;
CREATE FUNCTION pgmq.list_topic_bindings(queue_name text)
RETURNS TABLE (pattern text, queue_name text, bound_at timestamp with time zone, compiled_regex text)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.bindings_of($1)
$$;
CREATE FUNCTION pgmq.validate_routing_key(routing_key text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.run_any('SELECT pgmq_router.s_validate_routing_key($1, $2)::text', $1)::boolean
$$;
CREATE FUNCTION pgmq.validate_topic_pattern(pattern text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.run_any('SELECT pgmq_router.s_validate_topic_pattern($1, $2)::text', $1)::boolean
$$;

-- ---------------------------------------------------------------------------
-- Insert notifications: NOTIFY happens on the shard; LISTEN there
-- (pgmq_router.shards() says where a queue is).
CREATE FUNCTION pgmq.enable_notify_insert(queue_name text, throttle_interval_ms integer DEFAULT 250) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_enable_notify_insert($1, $2, $3)::text', $2);
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.disable_notify_insert(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_disable_notify_insert($1, $2)::text');
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.update_notify_insert(queue_name text, throttle_interval_ms integer) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_update_notify_insert($1, $2, $3)::text', $2);
    SELECT NULL::void;
$$;
CREATE FUNCTION pgmq.list_notify_insert_throttles()
RETURNS TABLE (queue_name text, throttle_interval_ms integer, last_notified_at timestamp with time zone)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT ON (lower(j->>'queue_name'))
           j->>'queue_name', (j->>'throttle_interval_ms')::integer, (j->>'last_notified_at')::timestamptz
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_list_notify_insert_throttles($1)')
     ORDER BY lower(j->>'queue_name'), (j->>'last_notified_at')::timestamptz DESC NULLS LAST
$$;

-- ---------------------------------------------------------------------------
-- Dead-letter queues.  A move happens inside one server, so the dead-letter
-- queue must have a part on the queue's shard: a placed queue on the same
-- shard, or a spread queue (a part on every shard).  Anything else is refused
-- naming both shards.
CREATE FUNCTION pgmq.set_dead_letter_queue(queue_name text, dead_letter_queue text, max_read_ct integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    q record := pgmq_router.route(queue_name);
    d record := pgmq_router.route(dead_letter_queue);
    sh integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    IF queue_name IS NOT NULL AND dead_letter_queue IS NOT NULL AND NOT d.spread
       AND (q.spread OR q.shard <> d.shard) THEN
        RAISE EXCEPTION 'dead-letter queue "%" is on shard % but queue "%" is on %',
                        dead_letter_queue, pgmq_router.shard_label(d.shard), queue_name,
                        CASE WHEN q.spread THEN 'every shard (spread queue)' ELSE 'shard ' || pgmq_router.shard_label(q.shard) END
            USING ERRCODE = '0A000',
                  DETAIL = 'A dead-letter move happens inside one server, so the dead-letter queue needs a part on the queue''s shard.',
                  HINT = 'Make the dead-letter queue a spread queue (SELECT pgmq_router.create_spread(''' || dead_letter_queue
                         || ''')), which has a part on every shard, or choose names that pgmq_router.placement() puts on one shard.';
    END IF;
    FOREACH sh IN ARRAY pgmq_router.shards_of(queue_name) LOOP
        BEGIN
            PERFORM pgmq_router.s_set_dead_letter_queue(sh, queue_name, dead_letter_queue, max_read_ct);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
END $$;
CREATE FUNCTION pgmq.clear_dead_letter_queue(queue_name text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT bool_or(r::boolean) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_clear_dead_letter_queue($1, $2)::text') r
$$;
CREATE FUNCTION pgmq.list_dead_letter_policies()
RETURNS TABLE (queue_name text, dead_letter_queue text, max_read_ct integer)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT j->>'queue_name', j->>'dead_letter_queue', (j->>'max_read_ct')::integer
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_list_dead_letter_policies($1)')
     ORDER BY 1
$$;
-- A spread dead-letter queue is redriven part by part (each part's messages
-- came from queues on its shard); with queue_name, only the shards that
-- queue has a part on.
CREATE FUNCTION pgmq.redrive(dead_letter_queue text, queue_name text DEFAULT NULL, qty integer DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    total bigint := 0;
    moved bigint;
    sh integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    FOR sh IN SELECT unnest(pgmq_router.shards_of(dead_letter_queue))
              INTERSECT
              SELECT unnest(CASE WHEN queue_name IS NULL THEN pgmq_router.shards_of(dead_letter_queue)
                                 ELSE pgmq_router.shards_of(queue_name) END)
              ORDER BY 1
    LOOP
        BEGIN
            moved := pgmq_router.s_redrive(sh, dead_letter_queue, queue_name,
                                           CASE WHEN qty IS NULL OR total = 0 THEN qty ELSE (qty - total)::integer END);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
        total := total + moved;
        EXIT WHEN qty IS NOT NULL AND total >= qty;
    END LOOP;
    RETURN total;
END $$;

-- ---------------------------------------------------------------------------
-- Spread queues

-- One logical queue with a part on every shard.  Idempotent: it creates the
-- parts that are missing and records the queue on this router (run it on
-- every router).  A placed queue of that name (on its shard only) is refused.
CREATE FUNCTION pgmq_router.make_spread(a_q text, a_kind text, a_pi text, a_ri text, a_premake integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record := pgmq_router.route(a_q);
    here boolean[] := '{}';
    sh integer;
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    IF a_q IS NULL THEN
        RAISE EXCEPTION 'queue_name cannot be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pgmq.validate_queue_name(a_q);
    FOR i IN 0 .. r.nshards - 1 LOOP
        sh := i;
        BEGIN
            here := here || pgmq_router.s_queue_exists(sh, a_q);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
    IF NOT r.spread AND r.nshards > 1 AND here[r.shard + 1]
       AND NOT EXISTS (SELECT 1 FROM unnest(here) WITH ORDINALITY u(e, o) WHERE u.e AND u.o <> r.shard + 1) THEN
        RAISE EXCEPTION 'queue "%" already exists as a placed queue on shard %', a_q, pgmq_router.shard_label(r.shard)
            USING ERRCODE = '42P07', HINT = 'Drop it first (pgmq.drop_queue), or keep it placed.';
    END IF;
    FOR i IN 0 .. r.nshards - 1 LOOP
        sh := i;
        BEGIN
            IF a_kind = 'unlogged' THEN
                PERFORM pgmq_router.s_create_unlogged(sh, a_q);
            ELSIF a_kind = 'partitioned' THEN
                PERFORM pgmq_router.s_create_partitioned(sh, a_q, a_pi, a_ri, a_premake);
            ELSE
                PERFORM pgmq_router.s_create(sh, a_q);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
    INSERT INTO pgmq_router.spread_queue (queue_name) VALUES (lower(a_q)) ON CONFLICT DO NOTHING;
END $$;

CREATE FUNCTION pgmq_router.create_spread(queue_name text, unlogged boolean DEFAULT false) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.make_spread($1, CASE WHEN $2 THEN 'unlogged' ELSE 'plain' END, NULL, NULL, NULL);
$$;
CREATE FUNCTION pgmq_router.create_spread_partitioned(queue_name text, partition_interval text DEFAULT '10000',
                                                      retention_interval text DEFAULT '100000',
                                                      premake integer DEFAULT 4) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgmq_router.make_spread($1, 'partitioned', $2, $3, $4);
$$;

-- Where things are: every shard with its connection string (no password).
CREATE FUNCTION pgmq_router.shards() RETURNS TABLE (shard integer, server_option text, connstr text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT substr(o.option_name, 2)::integer, o.option_name,
           regexp_replace(o.option_value, 'password\s*=\s*(''[^'']*''|\S+)', 'password=***', 'g')
      FROM pg_foreign_server s CROSS JOIN LATERAL pg_options_to_table(s.srvoptions) o
     WHERE s.srvname = 'pgmq_cluster' AND o.option_name ~ '^p[0-9]+$'
     ORDER BY 1
$$;

-- ===========================================================================
-- Statistics (pgmq issue 17): gathered from every shard.  A queue's row is
-- the sum of its parts (one part for a placed queue, one per shard for a
-- spread queue); stats_reset is the latest reset among the parts, so the
-- counters cover at least everything since then.  A shard down: an error
-- naming it (as list_queues), not a partial answer.
CREATE FUNCTION pgmq_router.s_stats(a_shard integer)
RETURNS TABLE (queue_name text, sends bigint, messages_sent bigint, reads bigint, messages_delivered bigint,
               redeliveries bigint, empty_reads bigint, deletes bigint, archives bigint, pops bigint,
               dead_lettered bigint, poll_wakeups bigint, queue_length_estimate bigint,
               stats_reset timestamptz) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, sends, messages_sent, reads, messages_delivered, redeliveries, empty_reads, deletes,
           archives, pops, dead_lettered, poll_wakeups, queue_length_estimate, stats_reset
      FROM pgmq.stats();
$$;
CREATE FUNCTION pgmq_router.s_stats_info(a_shard integer)
RETURNS TABLE (max_tracked_queues integer, tracked_queues integer, untracked_events bigint) LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT max_tracked_queues, tracked_queues, untracked_events FROM pgmq.stats_info();
$$;
CREATE FUNCTION pgmq_router.s_stats_reset(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.stats_reset(a_q);
$$;

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
RETURNS SETOF record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT min(j->>'queue_name'),
           sum((j->>'sends')::bigint)::bigint, sum((j->>'messages_sent')::bigint)::bigint,
           sum((j->>'reads')::bigint)::bigint, sum((j->>'messages_delivered')::bigint)::bigint,
           sum((j->>'redeliveries')::bigint)::bigint, sum((j->>'empty_reads')::bigint)::bigint,
           sum((j->>'deletes')::bigint)::bigint, sum((j->>'archives')::bigint)::bigint,
           sum((j->>'pops')::bigint)::bigint, sum((j->>'dead_lettered')::bigint)::bigint,
           sum((j->>'poll_wakeups')::bigint)::bigint, sum((j->>'queue_length_estimate')::bigint)::bigint,
           max((j->>'stats_reset')::timestamptz)
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_stats($1)')
     GROUP BY lower(j->>'queue_name')
     ORDER BY lower(j->>'queue_name')
$$;
CREATE VIEW pgmq.stats AS SELECT * FROM pgmq.stats();

-- Capacity and lost events of the whole cluster: sums over the shards
-- (pgmq_router.stats_info_by_shard() has one row per shard: a full shard
-- shows there first).
CREATE FUNCTION pgmq_router.stats_info_by_shard()
RETURNS TABLE (shard integer, max_tracked_queues integer, tracked_queues integer, untracked_events bigint)
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT shard, (j->>'max_tracked_queues')::integer, (j->>'tracked_queues')::integer,
           (j->>'untracked_events')::bigint
      FROM pgmq_router.run_all('SELECT * FROM pgmq_router.s_stats_info($1)')
     ORDER BY shard
$$;
CREATE FUNCTION pgmq.stats_info(
    OUT max_tracked_queues integer,
    OUT tracked_queues integer,
    OUT untracked_events bigint)
RETURNS record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT sum(s.max_tracked_queues)::integer, sum(s.tracked_queues)::integer, sum(s.untracked_events)::bigint
      FROM pgmq_router.stats_info_by_shard() s
$$;

-- No name: every shard.  A name: the shards the queue has a part on (the
-- shard checks the name).
CREATE FUNCTION pgmq.stats_reset(queue_name text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF queue_name IS NULL THEN
        PERFORM count(*) FROM pgmq_router.run_all('SELECT pgmq_router.s_stats_reset($1, NULL)');
    ELSE
        PERFORM count(*) FROM pgmq_router.run_q(queue_name, 'SELECT pgmq_router.s_stats_reset($1, $2)::text');
    END IF;
END $$;

-- As on a shard: monitoring roles read, only superusers (or whom they grant) reset.
REVOKE ALL ON FUNCTION pgmq.stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmq.stats_info() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmq.stats_reset(text) FROM PUBLIC;
REVOKE ALL ON pgmq.stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmq.stats() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmq.stats_info() TO pg_monitor;
GRANT SELECT ON pgmq.stats TO pg_monitor;

-- ===========================================================================
-- Per-queue settings (pgmq issue 16): deduplication window, retention,
-- priorities.  A placed queue: its shard.  A spread queue: every shard, one
-- after the other, each in its own transaction (a shard failing midway
-- leaves the earlier shards changed: run the call again, each of these is
-- idempotent).
CREATE FUNCTION pgmq_router.s_set_dedup_window(a_shard integer, a_q text, a_s integer) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.set_dedup_window(a_q, a_s);
$$;
CREATE FUNCTION pgmq_router.s_set_retention(a_shard integer, a_q text, a_m interval, a_a interval)
RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.set_retention(a_q, a_m, a_a);
$$;
CREATE FUNCTION pgmq_router.s_apply_retention(a_shard integer, a_q text) RETURNS bigint LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.apply_retention(a_q);
$$;
CREATE FUNCTION pgmq_router.s_enable_priorities(a_shard integer, a_q text) RETURNS integer LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT 1 FROM pgmq.enable_priorities(a_q);
$$;
CREATE FUNCTION pgmq_router.s_disable_priorities(a_shard integer, a_q text) RETURNS boolean LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT pgmq.disable_priorities(a_q);
$$;

CREATE FUNCTION pgmq.set_dedup_window(queue_name text, seconds integer) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_set_dedup_window($1, $2, $3)::text', $2);
    SELECT NULL::void;
$$;
-- (the intervals travel as text through run_q)
CREATE FUNCTION pgmq.set_retention(queue_name text, message_retention interval, archive_retention interval) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1,
        'SELECT pgmq_router.s_set_retention($1, $2, $4::pg_catalog.interval, $6::pg_catalog.interval)::text',
        a_text => $2::text, a_text2 => $3::text);
    SELECT NULL::void;
$$;
-- One step on every part; the rows removed add up.
CREATE FUNCTION pgmq.apply_retention(queue_name text) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT sum(r::bigint)::bigint FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_apply_retention($1, $2)::text') r
$$;
CREATE FUNCTION pgmq.enable_priorities(queue_name text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_enable_priorities($1, $2)::text');
    SELECT NULL::void;
$$;
-- true when some part had the index
CREATE FUNCTION pgmq.disable_priorities(queue_name text) RETURNS boolean
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT bool_or(r::boolean) FROM pgmq_router.run_q($1, 'SELECT pgmq_router.s_disable_priorities($1, $2)::text') r
$$;

-- ===========================================================================
-- read_multi (pgmq issue 16) over queues on several shards.
--
-- Queues all placed on one shard: the call goes there whole (one
-- transaction, the shard's order, wakeups and errors).  Otherwise:
--  1. every check comes before any shard reads: arguments, array and
--     element errors, then that each placed queue exists on its shard; a
--     failing check is reported by a shard call that can only fail (the
--     shard's own SQLSTATE and text, in the shard's order of checks);
--  2. each involved shard (a placed queue's, every shard for a spread queue)
--     gets read_multi over its queues, in array order, for what is still
--     missing of qty, starting at a rotating shard; nothing is read that is
--     not returned (a message taken and not returned would have lost a
--     delivery: read_ct raised, hidden for vt);
--  3. the rows are returned oldest visible first, by vt, then the queue's
--     position in queue_names, then msg_id (spread msg_ids name their shard).
-- Not atomic across shards: each shard's part is its own transaction, so
-- the order holds within the rows one call returns, and an older message
-- on a shard asked later can wait for the next call when an earlier shard
-- filled qty.  A shard that holds only parts of spread queues and cannot be
-- reached is skipped; one that holds a placed queue fails the call naming it.
CREATE FUNCTION pgmq_router.s_read_multi(a_shard integer, a_names text[], a_vt integer, a_qty integer)
RETURNS SETOF pgmq.multi_message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers
      FROM pgmq.read_multi(a_names, a_vt, a_qty);
$$;
CREATE FUNCTION pgmq_router.s_read_multi_with_poll(a_shard integer, a_names text[], a_vt integer, a_qty integer,
                                                   a_mps integer, a_pim integer)
RETURNS SETOF pgmq.multi_message_record LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT queue_name, msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers
      FROM pgmq.read_multi_with_poll(a_names, a_vt, a_qty, a_mps, a_pim);
$$;
-- the names of a_names (as given) that are no queue on the shard
CREATE FUNCTION pgmq_router.s_missing_queues(a_shard integer, a_names text[]) RETURNS SETOF text LANGUAGE plproxy AS $$
    CLUSTER 'pgmq_cluster'; RUN ON a_shard;
    SELECT n FROM pg_catalog.unnest(a_names) n
     WHERE NOT EXISTS (SELECT 1 FROM pgmq.meta m
                        WHERE pg_catalog.lower(m.queue_name) OPERATOR(pg_catalog.=) pg_catalog.lower(n));
$$;

-- One read_multi call on one shard (a_poll: the _with_poll form).
CREATE FUNCTION pgmq_router.multi_on(a_shard integer, a_names text[], a_vt integer, a_qty integer,
                                     a_poll boolean, a_mps integer, a_pim integer)
RETURNS SETOF pgmq.multi_message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF a_poll THEN
        RETURN QUERY SELECT * FROM pgmq_router.s_read_multi_with_poll(a_shard, a_names, a_vt, a_qty, a_mps, a_pim);
    ELSE
        RETURN QUERY SELECT * FROM pgmq_router.s_read_multi(a_shard, a_names, a_vt, a_qty);
    END IF;
END $$;

-- A call that must fail on a shard before it reads anything: re-raise its
-- error.  (Should it return instead, that is a router bug: XX000.)
CREATE FUNCTION pgmq_router.multi_must_fail(a_shard integer, a_names text[], a_vt integer, a_qty integer,
                                            a_poll boolean, a_mps integer, a_pim integer) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    BEGIN
        PERFORM count(*) FROM pgmq_router.multi_on(a_shard, a_names, a_vt, a_qty, a_poll, a_mps, a_pim);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
        PERFORM pgmq_router.fail(a_shard, e1, e2, e3, e4);
    END;
    RAISE EXCEPTION 'pgmq_router: a read_multi check on shard % did not fail', a_shard USING ERRCODE = 'XX000';
END $$;

-- The names of a_names that go to shard a_shard (placed there, or spread),
-- in array order.
CREATE FUNCTION pgmq_router.multi_names_on(a_names text[], a_spread boolean[], a_shards integer[], a_shard integer)
RETURNS text[] LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(u.nm ORDER BY u.o), '{}')
      FROM unnest(a_names, a_spread, a_shards) WITH ORDINALITY u(nm, sp, sh, o)
     WHERE u.sp OR (u.sh = a_shard AND u.nm IS NOT NULL)
$$;

CREATE FUNCTION pgmq_router.multi_read(a_names text[], a_vt integer, a_qty integer, a_poll boolean,
                                       a_mps integer, a_pim integer)
RETURNS SETOF pgmq.multi_message_record LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer := pgmq_router.shard_count();
    names text[];          -- the elements, flattened, in order
    lnames text[];
    spread boolean[];
    shards integer[];      -- placement shard of each element
    placed integer[];      -- shards with a placed queue of the call
    missing text[] := '{}';
    first_missing integer;
    k integer;
    sh integer;
    start integer;
    got integer;
    down integer;
    asked integer;
    deadline timestamptz;
    rows pgmq.multi_message_record[];
    part pgmq.multi_message_record[];
    e1 text; e2 text; e3 text; e4 text;
BEGIN
    SELECT coalesce(array_agg(u.nm ORDER BY u.o), '{}'), coalesce(array_agg(lower(u.nm) ORDER BY u.o), '{}'),
           coalesce(array_agg(u.nm IS NOT NULL AND EXISTS (SELECT 1 FROM pgmq_router.spread_queue s
                                                           WHERE s.queue_name = lower(u.nm)) ORDER BY u.o), '{}'),
           coalesce(array_agg(coalesce(hashtext(lower(u.nm)) & (n - 1), 0) ORDER BY u.o), '{}')
      INTO names, lnames, spread, shards
      FROM unnest(a_names) WITH ORDINALITY u(nm, o);
    SELECT coalesce(array_agg(DISTINCT u.sh), '{}') INTO placed
      FROM unnest(names, spread, shards) u(nm, sp, sh) WHERE NOT u.sp AND u.nm IS NOT NULL;

    -- all on one shard (or nothing to route by): the whole call goes there
    IF NOT (true = ANY (spread)) AND cardinality(placed) <= 1 THEN
        sh := coalesce(placed[1], 0);
        BEGIN
            RETURN QUERY SELECT * FROM pgmq_router.multi_on(sh, a_names, a_vt, a_qty, a_poll, a_mps, a_pim);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
        RETURN;
    END IF;

    -- 1. checks, in the shard's order: vt, qty (max_poll_seconds,
    -- poll_interval_ms), the array, each element (NULL, name, named twice),
    -- then that each queue exists.  (A NULL or empty array went whole to a
    -- shard above.)
    IF a_vt IS NULL OR a_vt < 0 OR a_qty IS NULL OR a_qty <= 0
       OR (a_poll AND (a_mps IS NULL OR a_mps < 0 OR a_pim IS NULL OR a_pim <= 0)) THEN
        PERFORM pgmq_router.multi_must_fail(0, ARRAY[]::text[], a_vt, a_qty, a_poll, a_mps, a_pim);
    END IF;
    IF array_ndims(a_names) > 1 OR cardinality(a_names) > 32 THEN
        PERFORM pgmq_router.multi_must_fail(0, a_names, a_vt, a_qty, a_poll, a_mps, a_pim);
    END IF;
    FOREACH sh IN ARRAY placed LOOP
        BEGIN
            missing := missing || ARRAY(SELECT pgmq_router.s_missing_queues(sh,
                                            ARRAY(SELECT u.nm FROM unnest(names, spread, shards) WITH ORDINALITY u(nm, sp, s, o)
                                                   WHERE NOT u.sp AND u.s = sh AND u.nm IS NOT NULL ORDER BY u.o)));
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
            PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
        END;
    END LOOP;
    FOR i IN 1 .. cardinality(names) LOOP
        IF names[i] IS NULL THEN
            PERFORM pgmq_router.multi_must_fail(0, ARRAY[NULL]::text[], a_vt, a_qty, a_poll, a_mps, a_pim);
        END IF;
        IF NOT spread[i] AND names[i] = ANY (missing) THEN
            -- an invalid name, or a queue its shard does not have (reported last)
            BEGIN
                PERFORM pgmq_router.multi_must_fail(shards[i], ARRAY[names[i]], a_vt, a_qty, a_poll, a_mps, a_pim);
            EXCEPTION WHEN undefined_table THEN
                first_missing := coalesce(first_missing, i);
            END;
        END IF;
        k := array_position(lnames, lnames[i]);
        IF k < i THEN
            PERFORM pgmq_router.multi_must_fail(0, ARRAY[names[k], names[i]], a_vt, a_qty, a_poll, a_mps, a_pim);
        END IF;
    END LOOP;
    IF first_missing IS NOT NULL THEN
        PERFORM pgmq_router.multi_must_fail(shards[first_missing], ARRAY[names[first_missing]], a_vt, a_qty,
                                            a_poll, a_mps, a_pim);
    END IF;

    -- 2. read: each involved shard in turn for what is still missing; with
    -- poll, rounds that do not wait on the shards until something comes or
    -- time is up
    IF a_poll THEN
        deadline := clock_timestamp() + make_interval(secs => a_mps);
    END IF;
    LOOP
        got := 0;
        down := 0;
        asked := 0;
        rows := '{}';
        start := pgmq_router.next_turn(n);
        FOR i IN 0 .. n - 1 LOOP
            sh := (start + i) % n;
            CONTINUE WHEN NOT (true = ANY (spread) OR sh = ANY (placed));
            asked := asked + 1;
            BEGIN
                part := ARRAY(
                    SELECT ROW(r.queue_name,
                               CASE WHEN spread[array_position(lnames, lower(r.queue_name))]
                                    THEN pgmq_router.spread_id(r.msg_id, sh) ELSE r.msg_id END,
                               r.read_ct, r.enqueued_at, r.last_read_at, r.vt, r.message, r.headers)::pgmq.multi_message_record
                      FROM pgmq_router.s_read_multi(sh, pgmq_router.multi_names_on(names, spread, shards, sh),
                                                    a_vt, a_qty - got) r);
                rows := rows || part;
                got := got + cardinality(part);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS e1 = RETURNED_SQLSTATE, e2 = MESSAGE_TEXT, e3 = PG_EXCEPTION_DETAIL, e4 = PG_EXCEPTION_HINT;
                IF pgmq_router.failure_kind(e1, e2) IS NULL OR sh = ANY (placed) THEN
                    PERFORM pgmq_router.fail(sh, e1, e2, e3, e4);
                END IF;
                down := down + 1;
            END;
            EXIT WHEN got >= a_qty;
        END LOOP;
        IF down = asked THEN
            RAISE EXCEPTION 'no shard of cluster pgmq_cluster is available for read_multi' USING ERRCODE = '08006';
        END IF;
        IF got > 0 THEN
            -- 3. oldest visible first
            RETURN QUERY SELECT r.* FROM unnest(rows) r
                          ORDER BY r.vt, array_position(lnames, lower(r.queue_name)), r.msg_id;
        END IF;
        EXIT WHEN got > 0 OR NOT a_poll OR clock_timestamp() >= deadline;
        PERFORM pg_sleep(greatest(0, least(a_pim / 1000.0, extract(epoch FROM deadline - clock_timestamp()))));
    END LOOP;
END $$;

CREATE FUNCTION pgmq.read_multi(queue_names text[], vt integer, qty integer)
RETURNS SETOF pgmq.multi_message_record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.multi_read($1, $2, $3, false, NULL, NULL)
$$;
CREATE FUNCTION pgmq.read_multi_with_poll(queue_names text[], vt integer, qty integer,
                                          max_poll_seconds integer DEFAULT 5, poll_interval_ms integer DEFAULT 100)
RETURNS SETOF pgmq.multi_message_record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM pgmq_router.multi_read($1, $2, $3, true, $4, $5)
$$;
