-- api_1_13: what the pgmq API gained from 1.11.1 to 1.13.1 and the
-- client-facing behaviours of issue 13 (docs/api_changes.md):
--   read_grouped_head / read_grouped_head_with_poll; metrics' 8th field
--   default_partition_length (dead_lettered 9th); case-preserving queue
--   names; list_topic_bindings order; last_notified_at from the epoch;
--   pgmq 1.11's SQLSTATEs; the 1.1 -> 1.13.1 update with views on metrics.
-- Concurrency: test/specs/fifo_read_grouped_head.spec; wakeups:
-- test/t/wakeup_grouped_head.pl; the update from 1.11.0: upgrade_1_11.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- ---------------------------------------------------------------------------
-- read_grouped_head: the head of each group whose head is visible and free,
-- oldest group first, at most one message per group.
SELECT pgmq.create('gh');
-- group a: 1, 4; b: 2, 5; default (no header): 3; c: 6
SELECT pgmq.send('gh', jsonb_build_object('i', i),
                 CASE i WHEN 3 THEN NULL
                        ELSE jsonb_build_object('x-pgmq-group', (ARRAY['a','b','','a','b','c'])[i]) END)
  FROM generate_series(1, 6) i;
-- qty 2: the heads of the two oldest groups
SELECT msg_id, headers->>'x-pgmq-group' AS grp, read_ct
  FROM pgmq.read_grouped_head(queue_name => 'gh', vt => 30, qty => 2);
-- heads 1 and 2 are in flight: groups a and b give nothing, not 4 or 5
SELECT msg_id, headers->>'x-pgmq-group' AS grp
  FROM pgmq.read_grouped_head('gh', 30, 10);
SELECT count(*) AS nothing_left FROM pgmq.read_grouped_head('gh', 30, 10);
-- a's head is deleted: 4 is a's head now; b's head comes back visible
SELECT pgmq.delete('gh', 1::bigint);
SELECT msg_id FROM pgmq.set_vt('gh', 2::bigint, 0);
SELECT msg_id, headers->>'x-pgmq-group' AS grp, read_ct
  FROM pgmq.read_grouped_head('gh', 30, 10);
-- any casing reaches the queue; the polling form with its defaults on an
-- exhausted queue waits max_poll_seconds and returns nothing
SELECT count(*) FROM pgmq.read_grouped_head_with_poll('GH', 30, 5, max_poll_seconds => 0);
SELECT msg_id FROM pgmq.set_vt('gh', ARRAY[2, 4]::bigint[], 0) ORDER BY 1;
SELECT msg_id, headers->>'x-pgmq-group' AS grp
  FROM pgmq.read_grouped_head_with_poll(queue_name => 'gh', vt => 30, qty => 1,
                                        max_poll_seconds => 1, poll_interval_ms => 10);
-- with a dead-letter policy, a head read max_read_ct times is moved and the
-- next message of its group is the head
SELECT pgmq.create('gh_dlq');
SELECT pgmq.set_dead_letter_queue('gh', 'gh_dlq', 2);
UPDATE pgmq.q_gh SET vt = now() - interval '1 second';
UPDATE pgmq.q_gh SET read_ct = 2 WHERE msg_id = 4;
SELECT msg_id, headers->>'x-pgmq-group' AS grp FROM pgmq.read_grouped_head('gh', 30, 10);
SELECT message FROM pgmq.q_gh_dlq;
-- bad arguments
SELECT pg_temp.err(sql) FROM unnest(ARRAY[
    $$SELECT pgmq.read_grouped_head(NULL, 30, 1)$$,
    $$SELECT pgmq.read_grouped_head('gh', NULL, 1)$$,
    $$SELECT pgmq.read_grouped_head('gh', -1, 1)$$,
    $$SELECT pgmq.read_grouped_head('gh', 30, 0)$$,
    $$SELECT pgmq.read_grouped_head('nope', 30, 1)$$,
    $$SELECT pgmq.read_grouped_head_with_poll('gh', 30, 1, -1)$$,
    $$SELECT pgmq.read_grouped_head_with_poll('gh', 30, 1, 1, 0)$$]) AS sql;
SELECT pgmq.drop_queue('gh'), pgmq.drop_queue('gh_dlq');

-- ---------------------------------------------------------------------------
-- metrics: 9 columns; default_partition_length 8th (NULL for a plain
-- queue), dead_lettered 9th.
SELECT attnum, attname FROM pg_attribute
 WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'pgmq.metrics_result'::regtype)
   AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT pgmq.create('plain_m');
SELECT queue_name, default_partition_length, dead_lettered FROM pgmq.metrics('plain_m');
-- read by position, as clients of 1.13 do
-- (by position: columns appended later, like issue 16's retention_expired, follow)
SELECT a[8] = '' AND a[9] = '0' AS position_8_null_position_9_zero
  FROM (SELECT string_to_array(trim(both '()' from (pgmq.metrics('plain_m'))::text), ',') AS a) x;
SELECT pgmq.drop_queue('plain_m');

-- a partitioned queue: the planner's estimate of the rows in the default
-- partitions of q_ and a_ (0 until rows land there and are counted)
CREATE SCHEMA partman_m;
SET client_min_messages = warning;
CREATE EXTENSION pg_partman SCHEMA partman_m;
RESET client_min_messages;
SELECT pgmq.create_partitioned('part_m', '10', '100');
SELECT queue_name, default_partition_length FROM pgmq.metrics('part_m');
-- a row far past the premade partitions goes to the default partition
INSERT INTO pgmq.q_part_m (msg_id, vt, message) OVERRIDING SYSTEM VALUE
VALUES (1000000, now(), '{}'), (1000001, now(), '{}');
INSERT INTO pgmq.a_part_m (msg_id, vt, message) VALUES (1000002, now(), '{}');
ANALYZE pgmq.q_part_m_default, pgmq.a_part_m_default;
SELECT queue_name, default_partition_length FROM pgmq.metrics('part_m');
SELECT queue_name, default_partition_length FROM pgmq.metrics_all() WHERE queue_name = 'part_m';
SELECT pgmq.drop_queue('part_m');
SET client_min_messages = warning;
DROP EXTENSION pg_partman;
RESET client_min_messages;
DROP SCHEMA partman_m;

-- ---------------------------------------------------------------------------
-- Case-preserving names: pgmq.meta keeps the case of the create call, every
-- function returns it, any casing reaches the one queue, tables are named
-- after the lower-cased name (as the PL/pgSQL pgmq names them).
SELECT pgmq.create('vXAWEBgVet');
SELECT pgmq.create('VXAWEBGVET');            -- the same queue: nothing new
SELECT pgmq.create_unlogged('vxawebgvet');   -- likewise
SELECT queue_name, is_unlogged FROM pgmq.list_queues() WHERE lower(queue_name) = 'vxawebgvet';
SELECT queue_name FROM pgmq.meta WHERE lower(queue_name) = 'vxawebgvet';
SELECT to_regclass('pgmq.q_vxawebgvet') IS NOT NULL AS q_table,
       to_regclass('pgmq.a_vxawebgvet') IS NOT NULL AS a_table;
SELECT * FROM pgmq.send('VxAwEbGvEt', '{"n": 1}');
SELECT queue_name, queue_length FROM pgmq.metrics('vxawebgvet');
SELECT queue_name, queue_length FROM pgmq.metrics_all() WHERE lower(queue_name) = 'vxawebgvet';
SELECT pgmq.format_table_name('vXAWEBgVet', 'q');
-- a second spelling written to pgmq.meta directly is skipped: one row
SELECT pg_temp.err($$INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)
                     VALUES ('VXAWEBgvet', false, false)$$);
SELECT count(*) AS meta_rows FROM pgmq.meta WHERE lower(queue_name) = 'vxawebgvet';
-- topics and notifications store the name as pgmq.meta spells it
SELECT pgmq.bind_topic('cp.*', 'vxawebgvet');
SELECT pattern, queue_name FROM pgmq.list_topic_bindings('VXAWEBGVET');
SELECT * FROM pgmq.send_batch_topic('cp.x', ARRAY['{"t": 1}']::jsonb[]);
SELECT pattern, queue_name FROM pgmq.test_routing('cp.y');
SELECT pgmq.unbind_topic('cp.*', 'VXAWEBGVET');
SELECT pgmq.enable_notify_insert('vxawebgvet', 0);
SELECT queue_name FROM pgmq.list_notify_insert_throttles();
SELECT tgname FROM pg_trigger WHERE tgrelid = 'pgmq.q_vxawebgvet'::regclass AND NOT tgisinternal;
SELECT pgmq.disable_notify_insert('VXAWEBGVET');
SELECT count(*) AS throttle_rows FROM pgmq.notify_insert_throttle;
SELECT pgmq.create('cp_dlq');
SELECT pgmq.set_dead_letter_queue('VXAWEBGVET', 'CP_DLQ', 3);
SELECT queue_name, dead_letter_queue FROM pgmq.list_dead_letter_policies();
SELECT pgmq.clear_dead_letter_queue('vxawebgvet');
-- drop_queue with another casing removes the one queue and its meta row
SELECT pgmq.drop_queue('VXAWEBGVET');
SELECT count(*) AS meta_rows FROM pgmq.meta WHERE lower(queue_name) = 'vxawebgvet';
SELECT pgmq.drop_queue('cp_dlq');

-- ---------------------------------------------------------------------------
-- Insert notifications: last_notified_at starts at the epoch after
-- enable_notify_insert and after update_notify_insert.
SELECT pgmq.create('nt13');
SELECT pgmq.enable_notify_insert('nt13', 60000);
SELECT last_notified_at FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt13';
SELECT count(*) FROM pgmq.send('nt13', '{}');
SELECT last_notified_at > '1970-01-02' AS stamped
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt13';
SELECT pgmq.update_notify_insert('nt13', 1000);
SELECT last_notified_at, throttle_interval_ms FROM pgmq.list_notify_insert_throttles()
 WHERE queue_name = 'nt13';
SELECT count(*) FROM pgmq.send('nt13', '{}');
SELECT pgmq.enable_notify_insert('nt13', 5);   -- again: back to the epoch too
SELECT last_notified_at, throttle_interval_ms FROM pgmq.list_notify_insert_throttles()
 WHERE queue_name = 'nt13';
SELECT pgmq.drop_queue('nt13');

-- ---------------------------------------------------------------------------
-- list_topic_bindings: newest first (bound_at DESC), then by pattern.
SELECT pgmq.create('tb13');
SELECT pgmq.bind_topic('zz.*', 'tb13');
SELECT pg_sleep(0.01);
SELECT pgmq.bind_topic('mm.*', 'tb13');
SELECT pg_sleep(0.01);
BEGIN;
SELECT pgmq.bind_topic('bb.*', 'tb13');      -- one transaction: same bound_at
SELECT pgmq.bind_topic('aa.*', 'tb13');
COMMIT;
SELECT pattern FROM pgmq.list_topic_bindings();
SELECT pattern FROM pgmq.list_topic_bindings('tb13');
SELECT pgmq.drop_queue('tb13');

-- ---------------------------------------------------------------------------
-- pgmq 1.11's SQLSTATEs where it raises for the same condition (P0001).
SELECT pgmq.create('st13');
SELECT pg_temp.err(sql) FROM unnest(ARRAY[
    $$SELECT pgmq.create_partitioned('st13p')$$,                 -- no pg_partman
    $$SELECT pgmq.create(repeat('a', 48))$$,
    $$SELECT pgmq.send('semi;colon', '{}')$$,
    $$SELECT pgmq.send('space name', '{}')$$,                    -- 1.11 accepts it: ours
    $$SELECT pgmq.send_batch('st13', ARRAY[]::jsonb[])$$,
    $$SELECT pgmq.send_batch('st13', ARRAY['{}']::jsonb[], ARRAY['{}', '{}']::jsonb[])$$,
    $$SELECT pgmq.enable_notify_insert('st13', -1)$$,
    $$SELECT pgmq.enable_notify_insert('nope13')$$,
    $$SELECT pgmq.update_notify_insert('st13', 10)$$,            -- not enabled
    $$SELECT pgmq.update_notify_insert('nope13', 10)$$,
    $$SELECT pgmq.bind_topic('a.*', 'nope13')$$,
    $$SELECT pgmq.bind_topic('a.*', '')$$,
    $$SELECT pgmq.bind_topic('a..b', 'st13')$$,
    $$SELECT pgmq.validate_routing_key('')$$,
    $$SELECT pgmq.send_topic('a.b', NULL)$$,
    $$SELECT pgmq.send_topic('a.b', '{}', -1)$$,
    $$SELECT pgmq.send('nope13', '{}')$$]) AS sql;                -- 1.11: 42P01 as well
SELECT pgmq.unbind_topic('a.*', 'nope13') AS unbind_unknown_queue;
SELECT pgmq.drop_queue('st13');

-- ---------------------------------------------------------------------------
-- The one-argument enable_notify_insert(text) is gone (1.11.1); the
-- signatures added since 1.11, with their argument names and defaults.
SELECT to_regprocedure('pgmq.enable_notify_insert(text)') AS one_argument_form;
SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS result
  FROM pg_proc p WHERE p.pronamespace = 'pgmq'::regnamespace
   AND p.proname IN ('read_grouped_head', 'read_grouped_head_with_poll', 'enable_notify_insert')
 ORDER BY 1;
-- topic_bindings and notify_insert_throttle are config tables (pg_dump keeps them)
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'pgmq' ORDER BY 1;
SELECT extversion FROM pg_extension WHERE extname = 'pgmq';

-- ---------------------------------------------------------------------------
-- Updating 1.1 -> 1.13.1 moves metrics_result.dead_lettered: a view that
-- reads it stops the update with a clear error (nothing changes); without
-- it the update goes through, and views on other columns survive.
SET client_min_messages = warning;
DROP EXTENSION pgmq;
CREATE EXTENSION pgmq VERSION '1.1';
RESET client_min_messages;
SELECT pgmq.create('up13');
CREATE VIEW public.up13_dl AS SELECT queue_name, dead_lettered FROM pgmq.metrics_all();
CREATE VIEW public.up13_len AS SELECT queue_name, queue_length FROM pgmq.metrics_all();
SELECT pg_temp.err('ALTER EXTENSION pgmq UPDATE');
SELECT extversion FROM pg_extension WHERE extname = 'pgmq';
DROP VIEW public.up13_dl;
ALTER EXTENSION pgmq UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pgmq';
SELECT * FROM public.up13_len;
SELECT queue_name, default_partition_length, dead_lettered FROM pgmq.metrics('up13');
DROP VIEW public.up13_len;
SELECT pgmq.drop_queue('up13');
