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

-- Partitioned queues, and queue tables found in schema pgmq ---------------------
-- (src/partition.c; docs/partitioning.md and docs/migration.md)

CREATE FUNCTION pgmq.create_partitioned(queue_name text,
                                        partition_interval text DEFAULT '10000',
                                        retention_interval text DEFAULT '100000')
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_create_partitioned' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.convert_archive_partitioned(table_name text,
                                                 partition_interval text DEFAULT '10000',
                                                 retention_interval text DEFAULT '100000',
                                                 leading_partition integer DEFAULT 10)
    RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_convert_archive_partitioned' LANGUAGE C VOLATILE;

-- pgmq.meta rows may also come from elsewhere than pgmq.create: a restore
-- (pg_dump keeps them as config-table data, loaded after CREATE EXTENSION has
-- run), or a dump of the PL/pgSQL pgmq, which kept "MyQ" and "myq" as two rows
-- and let through names we refuse.  Every row is checked on the way in: the
-- name is folded to lower case, a name we would refuse is left out with a
-- WARNING (it would break metrics_all), and a row for a queue that is
-- registered already is dropped silently, so loading meta rows never fails
-- on a duplicate and never makes one.
CREATE FUNCTION pgmq._meta_before_insert() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    BEGIN
        PERFORM pgmq.validate_queue_name(NEW.queue_name);
    EXCEPTION WHEN invalid_name OR name_too_long OR null_value_not_allowed THEN
        RAISE WARNING 'pgmq: queue "%" left out of pgmq.meta: its name is not valid', NEW.queue_name
            USING HINT = 'Queue names are 1 to 47 ASCII letters, digits, "_" or "-".';
        RETURN NULL;
    END;
    NEW.queue_name := lower(NEW.queue_name);
    IF EXISTS (SELECT 1 FROM pgmq.meta m WHERE m.queue_name = NEW.queue_name) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER meta_before_insert BEFORE INSERT ON pgmq.meta
    FOR EACH ROW EXECUTE FUNCTION pgmq._meta_before_insert();

-- Register every queue table in schema pgmq that has the pgmq layout: tables
-- left by the PL/pgSQL pgmq after DROP EXTENSION, by our own DROP EXTENSION,
-- or by a restore.  For each ordinary table pgmq.q_<name> (not a partition,
-- not an extension member) whose <name> is a valid lower-case queue name:
--   * check the columns of q_<name> and a_<name>; add last_read_at / headers
--     when an older layout lacks them;
--   * make sure the indexes our plans need exist: one starting with msg_id,
--     and (vt, msg_id) for reads.  The PL/pgSQL pgmq's q_<name>_vt_idx on
--     (vt) alone is redundant with it and is replaced under the same name;
--   * create a_<name> when it is missing (owned like q_<name>);
--   * insert the meta row, flags read from the catalog.
-- Tables that do not fit are left alone with a WARNING naming them.  Called
-- at the end of this script; anything it creates while CREATE EXTENSION runs
-- would become an extension member, so it hands those back (queue tables are
-- never members).  Returns how many queues it registered.
CREATE FUNCTION pgmq._adopt_queue_tables() RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    nsp oid := 'pgmq'::regnamespace;
    ext oid := (SELECT oid FROM pg_extension WHERE extname = 'pgmq');
    t record;
    m record;
    qname text;
    arel oid;
    ok boolean;
    bad text;
    idx text;
    n integer;
    adopted integer := 0;
BEGIN
    FOR t IN
        SELECT c.oid, c.relname::text AS relname, c.relkind, c.relpersistence, c.relowner
        FROM pg_class c
        WHERE c.relnamespace = nsp AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname LIKE 'q\_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d
                          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
        ORDER BY c.relname
    LOOP
        qname := substr(t.relname, 3);
        BEGIN
            PERFORM pgmq.validate_queue_name(qname);
            ok := qname = lower(qname);
        EXCEPTION WHEN invalid_name OR name_too_long THEN
            ok := false;
        END;
        IF NOT ok THEN
            RAISE WARNING 'pgmq: table pgmq.% left alone: "%" is not a valid queue name',
                quote_ident(t.relname), qname
                USING HINT = 'Queue names are 1 to 47 lower-case ASCII letters, digits, "_" or "-". Rename the table and its a_ table to make it a queue.';
            CONTINUE;
        END IF;
        arel := to_regclass(format('pgmq.%I', 'a_' || qname));

        -- Columns: name, type, whether it may be missing (then it is added).
        SELECT string_agg(format('%s.%s', v.tbl, v.col), ', ') INTO bad
        FROM (VALUES ('q', 'msg_id', 'bigint'::regtype, false),
                     ('q', 'read_ct', 'integer', false),
                     ('q', 'enqueued_at', 'timestamptz', false),
                     ('q', 'last_read_at', 'timestamptz', true),
                     ('q', 'vt', 'timestamptz', false),
                     ('q', 'message', 'jsonb', false),
                     ('q', 'headers', 'jsonb', true),
                     ('a', 'msg_id', 'bigint', false),
                     ('a', 'read_ct', 'integer', false),
                     ('a', 'enqueued_at', 'timestamptz', false),
                     ('a', 'last_read_at', 'timestamptz', true),
                     ('a', 'archived_at', 'timestamptz', false),
                     ('a', 'vt', 'timestamptz', false),
                     ('a', 'message', 'jsonb', false),
                     ('a', 'headers', 'jsonb', true)) v(tbl, col, typ, optional)
        LEFT JOIN pg_attribute a
               ON a.attrelid = CASE v.tbl WHEN 'q' THEN t.oid ELSE arel END
              AND a.attname = v.col AND NOT a.attisdropped
        WHERE (v.tbl = 'q' OR arel IS NOT NULL)
          AND CASE WHEN a.attname IS NULL THEN NOT v.optional
                   ELSE a.atttypid <> v.typ END;
        IF bad IS NULL AND NOT EXISTS (
                SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = t.oid AND a.attname = 'msg_id'
                  AND (a.attidentity <> '' OR a.atthasdef)) THEN
            bad := 'q.msg_id (no identity or default)';
        END IF;
        IF bad IS NOT NULL THEN
            RAISE WARNING 'pgmq: table pgmq.% left alone: it does not have the pgmq layout', quote_ident(t.relname)
                USING DETAIL = format('Missing or of another type: %s.', bad);
            CONTINUE;
        END IF;

        FOR m IN
            SELECT v.tbl, v.col, v.typ FROM (VALUES (t.oid, 'last_read_at', 'timestamp with time zone'),
                                                    (t.oid, 'headers', 'jsonb'),
                                                    (arel, 'last_read_at', 'timestamp with time zone'),
                                                    (arel, 'headers', 'jsonb')) v(tbl, col, typ)
            WHERE v.tbl IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = v.tbl AND a.attname = v.col AND NOT a.attisdropped)
        LOOP
            EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', m.tbl::regclass, m.col, m.typ);
        END LOOP;

        -- An index starting with msg_id (delete, archive, set_vt).
        IF NOT EXISTS (
                SELECT 1 FROM pg_index i JOIN pg_attribute a
                       ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = t.oid AND a.attname = 'msg_id' AND i.indpred IS NULL) THEN
            EXECUTE format('CREATE INDEX ON pgmq.%I (msg_id)', t.relname);
        END IF;

        -- The (vt, msg_id) btree the read path scans.
        IF NOT EXISTS (
                SELECT 1 FROM pg_index i
                JOIN pg_class ic ON ic.oid = i.indexrelid
                JOIN pg_am am ON am.oid = ic.relam
                JOIN pg_attribute a0 ON a0.attrelid = i.indrelid AND a0.attnum = i.indkey[0]
                JOIN pg_attribute a1 ON a1.attrelid = i.indrelid AND a1.attnum = i.indkey[1]
                WHERE i.indrelid = t.oid AND am.amname = 'btree' AND i.indpred IS NULL
                  AND i.indnkeyatts >= 2 AND a0.attname = 'vt' AND a1.attname = 'msg_id'
                  AND i.indoption[0] = 0 AND i.indoption[1] = 0) THEN
            idx := 'q_' || qname || '_vt_idx';
            -- Our index takes that name; an index of that name on (vt) alone
            -- (the PL/pgSQL pgmq's) is redundant with it and goes.
            IF EXISTS (
                    SELECT 1 FROM pg_class ic
                    JOIN pg_index i ON i.indexrelid = ic.oid
                    JOIN pg_am am ON am.oid = ic.relam
                    JOIN pg_attribute a0 ON a0.attrelid = i.indrelid AND a0.attnum = i.indkey[0]
                    WHERE ic.relnamespace = nsp AND ic.relname = idx AND i.indrelid = t.oid
                      AND am.amname = 'btree' AND i.indnkeyatts = 1 AND i.indnatts = 1
                      AND a0.attname = 'vt' AND i.indpred IS NULL AND NOT i.indisunique
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = ic.oid)) THEN
                EXECUTE format('DROP INDEX pgmq.%I', idx);
            END IF;
            IF to_regclass(format('pgmq.%I', idx)) IS NULL THEN
                EXECUTE format('CREATE INDEX %I ON pgmq.%I (vt, msg_id)', idx, t.relname);
            ELSE
                EXECUTE format('CREATE INDEX ON pgmq.%I (vt, msg_id)', t.relname);
            END IF;
        END IF;

        INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)
        VALUES (qname, t.relkind = 'p', t.relpersistence = 'u')
        ON CONFLICT (queue_name) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        adopted := adopted + n;

        IF arel IS NULL THEN
            PERFORM pgmq.create(qname);  -- q_ exists: this makes the archive only
            EXECUTE format('ALTER TABLE pgmq.%I OWNER TO %I', 'a_' || qname,
                           pg_get_userbyid(t.relowner));
        END IF;
        IF NOT has_table_privilege('pg_monitor', t.oid, 'SELECT')
           OR NOT has_table_privilege('pg_monitor', format('pgmq.%I', 'a_' || qname), 'SELECT') THEN
            EXECUTE format('GRANT SELECT ON pgmq.%I, pgmq.%I TO pg_monitor', t.relname, 'a_' || qname);
        END IF;
    END LOOP;

    FOR t IN
        SELECT c.relname::text AS relname FROM pg_class c
        WHERE c.relnamespace = nsp AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname LIKE 'a\_%'
          AND to_regclass(format('pgmq.%I', 'q' || substr(c.relname, 2))) IS NULL
        ORDER BY c.relname
    LOOP
        RAISE WARNING 'pgmq: table pgmq.% left alone: there is no queue table pgmq.%',
            quote_ident(t.relname), quote_ident('q' || substr(t.relname, 2));
    END LOOP;

    -- Queue tables and what hangs off them are never extension members.
    FOR m IN
        WITH queue_tables AS (
            SELECT c.oid FROM pgmq.meta q
            JOIN pg_class c ON c.relnamespace = nsp
                           AND c.relname IN ('q_' || q.queue_name, 'a_' || q.queue_name))
        SELECT c.oid::regclass AS rel, c.relkind
        FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
          AND d.refobjid = ext AND d.deptype = 'e'
          AND (c.oid IN (SELECT oid FROM queue_tables)
               OR c.oid IN (SELECT i.indexrelid FROM pg_index i
                            WHERE i.indrelid IN (SELECT oid FROM queue_tables))
               OR c.oid IN (SELECT s.objid FROM pg_depend s
                            WHERE s.classid = 'pg_class'::regclass
                              AND s.refclassid = 'pg_class'::regclass
                              AND s.refobjid IN (SELECT oid FROM queue_tables)
                              AND s.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER EXTENSION pgmq DROP %s %s',
                       CASE m.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, m.rel);
    END LOOP;
    RETURN adopted;
END
$$;

REVOKE ALL ON FUNCTION pgmq._adopt_queue_tables() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmq._adopt_queue_tables() TO @extowner@;


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

-- Last: register queue tables already in schema pgmq (src/partition.c's
-- adoption; docs/migration.md).
SELECT pgmq._adopt_queue_tables();
