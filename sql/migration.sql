-- migration: CREATE EXTENSION pgmq in a database that has queue tables in
-- schema pgmq already (left by the PL/pgSQL pgmq after DROP EXTENSION, made
-- here by hand in its layout) registers them as queues, messages intact and
-- usable at once; our own DROP EXTENSION / CREATE EXTENSION round trip does
-- the same.  Runs in a database of its own.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse
\set regress_db :DBNAME

CREATE DATABASE pgmq_migration;
CREATE ROLE regress_pgmq_owner;
\c pgmq_migration
\set VERBOSITY terse
CREATE SCHEMA pgmq;

-- A queue of the PL/pgSQL pgmq 1.11: its index on (vt) alone is named
-- q_<name>_vt_idx, like ours on (vt, msg_id).
CREATE TABLE pgmq.q_orders (
    msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    last_read_at timestamptz,
    vt timestamptz NOT NULL,
    message jsonb,
    headers jsonb);
CREATE INDEX q_orders_vt_idx ON pgmq.q_orders (vt ASC);
CREATE TABLE pgmq.a_orders (
    msg_id bigint PRIMARY KEY,
    read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    last_read_at timestamptz,
    archived_at timestamptz NOT NULL DEFAULT now(),
    vt timestamptz NOT NULL,
    message jsonb,
    headers jsonb);
CREATE INDEX archived_at_idx_orders ON pgmq.a_orders (archived_at);
INSERT INTO pgmq.q_orders (vt, message, headers)
SELECT now() - interval '1 minute', jsonb_build_object('order', g), jsonb_build_object('h', g)
  FROM generate_series(1, 6) g;
-- 2 and 4 are in flight (read once, hidden for an hour); 6 is delayed
UPDATE pgmq.q_orders SET read_ct = 1, last_read_at = now(), vt = now() + interval '1 hour'
 WHERE msg_id IN (2, 4);
UPDATE pgmq.q_orders SET vt = now() + interval '1 day' WHERE msg_id = 6;
INSERT INTO pgmq.a_orders (msg_id, read_ct, vt, message) VALUES (0, 3, now(), '{"order": 0}');

-- An unlogged queue of an older layout (no last_read_at, no headers), with no
-- archive table, owned by another role.
CREATE UNLOGGED TABLE pgmq.q_fast (
    msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    vt timestamptz NOT NULL,
    message jsonb);
ALTER TABLE pgmq.q_fast OWNER TO regress_pgmq_owner;
INSERT INTO pgmq.q_fast (vt, message) VALUES (now(), '{"fast": 1}'), (now(), '{"fast": 2}');

-- A partitioned queue (by msg_id, no primary key: an index on the partition
-- column and one on vt), with a child whose name looks like a queue table.
CREATE TABLE pgmq.q_parted (
    msg_id bigint GENERATED ALWAYS AS IDENTITY,
    read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    last_read_at timestamptz,
    vt timestamptz NOT NULL,
    message jsonb,
    headers jsonb) PARTITION BY RANGE (msg_id);
CREATE TABLE pgmq.q_parted_p0 PARTITION OF pgmq.q_parted FOR VALUES FROM (0) TO (1000);
CREATE INDEX q_parted_part_idx ON pgmq.q_parted (msg_id);
CREATE INDEX q_parted_vt_idx ON pgmq.q_parted (vt);
CREATE TABLE pgmq.a_parted (
    msg_id bigint NOT NULL,
    read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    last_read_at timestamptz,
    archived_at timestamptz NOT NULL DEFAULT now(),
    vt timestamptz NOT NULL,
    message jsonb,
    headers jsonb) PARTITION BY RANGE (msg_id);
CREATE TABLE pgmq.a_parted_p0 PARTITION OF pgmq.a_parted FOR VALUES FROM (0) TO (1000);
INSERT INTO pgmq.q_parted (vt, message) SELECT now(), jsonb_build_object('p', g) FROM generate_series(1, 3) g;

-- What the PL/pgSQL pgmq let through and we refuse, and tables that are not queues.
CREATE TABLE pgmq."q_My Queue" (msg_id bigint GENERATED ALWAYS AS IDENTITY, read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(), vt timestamptz NOT NULL, message jsonb);
CREATE TABLE pgmq."q_MixedCase" (msg_id bigint GENERATED ALWAYS AS IDENTITY, read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(), vt timestamptz NOT NULL, message jsonb);
CREATE TABLE pgmq.q_notes (id integer, body text);
CREATE TABLE pgmq.q_nodefault (msg_id bigint PRIMARY KEY, read_ct integer NOT NULL DEFAULT 0,
    enqueued_at timestamptz NOT NULL DEFAULT now(), vt timestamptz NOT NULL, message jsonb);
CREATE TABLE pgmq.a_lonely (msg_id bigint);

CREATE TEMP TABLE before_orders AS SELECT * FROM pgmq.q_orders;

-- Moving in.
CREATE EXTENSION pgmq;
SELECT queue_name, is_partitioned, is_unlogged FROM pgmq.list_queues();

-- Indexes for our plans: the (vt) index became (vt, msg_id) under its name.
SELECT c.relname AS tbl, i.indexrelid::regclass AS index, pg_get_indexdef(i.indexrelid) LIKE '%(vt, msg_id)' AS vt_msg_id
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'pgmq'::regnamespace AND c.relname IN ('q_orders', 'q_fast', 'q_parted')
 ORDER BY 1, 2;
-- Columns added to the older layout, archive made, owned like its queue.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'pgmq.q_fast'::regclass AND attnum > 0 ORDER BY attnum;
SELECT relname, pg_get_userbyid(relowner) AS owner, relpersistence FROM pg_class
 WHERE oid IN ('pgmq.q_fast'::regclass, 'pgmq.a_fast'::regclass) ORDER BY 1;
-- Nothing but our own objects are extension members.
SELECT c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgmq') AND d.deptype = 'e'
   AND (c.relname LIKE 'q\_%' OR c.relname LIKE 'a\_%');
SELECT has_table_privilege('pg_monitor', 'pgmq.q_orders', 'SELECT') AS monitor_q,
       has_table_privilege('pg_monitor', 'pgmq.a_fast', 'SELECT') AS monitor_a;

-- Every message as it was.
SELECT (SELECT count(*) FROM (SELECT * FROM before_orders EXCEPT SELECT * FROM pgmq.q_orders) a) AS changed,
       (SELECT count(*) FROM pgmq.q_orders) AS messages;
-- Usable at once: only visible messages are read; in-flight ones keep their state.
SELECT msg_id, read_ct, message, headers FROM pgmq.read('orders', 30, 10);
SELECT msg_id, read_ct, vt > now() + interval '50 minutes' AS still_hidden
  FROM pgmq.q_orders WHERE msg_id IN (2, 4, 6) ORDER BY msg_id;
SELECT pgmq.send('orders', '{"order": 7}') AS new_id;
SELECT pgmq.archive('orders', 1::bigint), pgmq.delete('orders', 3::bigint);
SELECT msg_id, read_ct, message FROM pgmq.a_orders ORDER BY msg_id;
SELECT msg_id, vt <= clock_timestamp() AS visible FROM pgmq.set_vt('orders', 2::bigint, 0);
SELECT msg_id, read_ct FROM pgmq.pop('orders', 5);
SELECT queue_name, queue_length, total_messages, queue_visible_length FROM pgmq.metrics_all();

SELECT msg_id, message, headers FROM pgmq.read('fast', 30, 5);
SELECT pgmq.archive('fast', 1::bigint), pgmq.send('fast', '{"fast": 3}', '{"h": 1}'::jsonb);
SELECT msg_id, message FROM pgmq.a_fast;

SELECT pgmq.send('parted', '{"p": 4}') AS new_id;
SELECT msg_id, message FROM pgmq.read('parted', 30, 2);
SELECT pgmq.archive('parted', 1::bigint);
SELECT msg_id, message FROM pgmq.a_parted;

-- The tables left alone are still there, untouched.
SELECT relname FROM pg_class
 WHERE relnamespace = 'pgmq'::regnamespace AND relkind IN ('r', 'p') AND relname IN
       ('q_My Queue', 'q_MixedCase', 'q_notes', 'q_nodefault', 'a_lonely', 'a_my queue', 'a_notes')
 ORDER BY 1;

-- pgmq.meta rows from elsewhere (a restore, a dump of the PL/pgSQL pgmq):
-- folded to lower case, duplicates dropped, invalid names left out.
INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)
VALUES ('ORDERS', false, false), ('Shipping', false, false), ('shipping', false, true),
       ('no good', false, false);
SELECT queue_name, is_unlogged FROM pgmq.meta ORDER BY 1;
DELETE FROM pgmq.meta WHERE queue_name = 'shipping';

-- Tables put in schema pgmq later (a restore of a PL/pgSQL pgmq dump) are
-- registered by calling the adoption again; it changes nothing else.
SELECT pgmq._adopt_queue_tables() AS registered;
CREATE TABLE pgmq.q_later (LIKE pgmq.q_orders INCLUDING ALL);
INSERT INTO pgmq.q_later (vt, message) VALUES (now(), '{"later": 1}');
SELECT pgmq._adopt_queue_tables() AS registered;
SELECT msg_id, message FROM pgmq.pop('later');
SELECT pgmq.drop_queue('later');
SET ROLE regress_pgmq_owner;
SELECT pgmq._adopt_queue_tables();
RESET ROLE;

-- Our own round trip: DROP EXTENSION leaves the queue tables, CREATE
-- EXTENSION registers them again.
CREATE TEMP TABLE before_roundtrip AS
SELECT 'q' AS t, msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.q_orders
UNION ALL SELECT 'a', msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.a_orders
UNION ALL SELECT 'f', msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.q_fast;
SET client_min_messages = error;
DROP EXTENSION pgmq;
RESET client_min_messages;
SELECT relname FROM pg_class
 WHERE relnamespace = 'pgmq'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
   AND relname ~ '^[qa]_(orders|fast|parted)$' ORDER BY 1;
SET client_min_messages = error;  -- the tables left alone warn again
CREATE EXTENSION pgmq;
RESET client_min_messages;
SELECT queue_name, is_partitioned, is_unlogged FROM pgmq.list_queues();
SELECT count(*) AS changed FROM (
    SELECT * FROM before_roundtrip
    EXCEPT
    (SELECT 'q', msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.q_orders
     UNION ALL SELECT 'a', msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.a_orders
     UNION ALL SELECT 'f', msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.q_fast)) d;
SELECT count(*) AS indexes_on_q_orders FROM pg_index WHERE indrelid = 'pgmq.q_orders'::regclass;
SELECT pgmq.send('orders', '{"order": 8}') AS new_id;
SELECT msg_id, message FROM pgmq.read('orders', 30, 10);
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics_all();

\c :regress_db
DROP DATABASE pgmq_migration;
DROP ROLE regress_pgmq_owner;
