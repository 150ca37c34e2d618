-- dedup: message deduplication (issue 16): x-pgmq-dedup-id on a queue with
-- a window — the original msg_id comes back and nothing is inserted, within
-- the window, after the original was consumed, inside send_batch; expiry,
-- clean-up, turning off, grants, and every error.  The race of two senders
-- is in test/specs/dedup_race.spec.
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
CREATE FUNCTION pg_temp.hdr(id text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('x-pgmq-dedup-id', id)
$$;

SELECT pgmq.create('dd');
-- without a window the header is an ordinary header
SELECT pgmq.send('dd', '{"n": 1}', pg_temp.hdr('k'));
SELECT pgmq.send('dd', '{"n": 2}', pg_temp.hdr('k'));
SELECT pgmq.send('dd', '{"n": 3}', '{"x-pgmq-dedup-id": 7}'::jsonb);
SELECT pgmq.purge_queue('dd');

SELECT pgmq.set_dedup_window('dd', 300);
SELECT * FROM pgmq.dedup_settings;
SELECT pgmq.send('dd', '{"n": 1}', pg_temp.hdr('a')) AS a_id \gset
SELECT pgmq.send('dd', '{"n": 2}', pg_temp.hdr('a')) = :a_id AS again_a_same;  -- nothing inserted
SELECT pgmq.send('dd', '{"n": 3}', pg_temp.hdr('b'), 10) AS b_id \gset
SELECT pgmq.send('dd', '{"n": 4}', pg_temp.hdr('b'), clock_timestamp()) = :b_id AS again_b_same;
SELECT pgmq.send('dd', '{"n": 5}') > :b_id AS no_headers_new;
SELECT pgmq.send('dd', '{"n": 6}', '{"other": 1}'::jsonb) > :b_id AS other_headers_new;
SELECT pgmq.send('dd', '{"n": 7}', '[1, 2]'::jsonb) > :b_id AS array_headers_new;
SELECT message, msg_id = :a_id AS is_a, msg_id = :b_id AS is_b FROM pgmq.q_dd ORDER BY msg_id;
-- a duplicate leaves a gap in the msg_ids, as a rolled-back send does
SELECT :b_id > :a_id + 1 AS gap;

-- the original consumed: read, deleted, archived -- still the original msg_id
SELECT msg_id = :a_id FROM pgmq.read('dd', 30, 1);
SELECT pgmq.send('dd', '{"n": 8}', pg_temp.hdr('a')) = :a_id AS after_read;
SELECT pgmq.delete('dd', :a_id::bigint);
SELECT pgmq.send('dd', '{"n": 9}', pg_temp.hdr('a')) = :a_id AS after_delete;
SELECT pgmq.archive('dd', :b_id::bigint);
SELECT message FROM pgmq.a_dd;
SELECT pgmq.send('dd', '{"n": 10}', pg_temp.hdr('b')) = :b_id AS after_archive;
SELECT count(*) AS rows_left FROM pgmq.q_dd;

-- ids compare exactly: case, spaces and unicode are part of the id
SELECT pgmq.send('dd', '{"n": 11}', pg_temp.hdr('A')) <> :a_id AS upper_is_other;
SELECT pgmq.send('dd', '{"n": 12}', pg_temp.hdr('a ')) <> :a_id AS space_is_other;
SELECT pgmq.send('dd', '{"n": 13}', pg_temp.hdr(repeat('é', 128))) AS u_id \gset
SELECT pgmq.send('dd', '{"n": 14}', pg_temp.hdr(repeat('é', 128))) = :u_id AS unicode_128_same;

-- send_batch: a repeated id gets the first element's msg_id at both places,
-- a known id its original, elements without an id are sent as usual
CREATE TEMP TABLE batch_ids AS
SELECT * FROM pgmq.send_batch('dd',
    ARRAY['{"b": 1}', '{"b": 2}', '{"b": 3}', '{"b": 4}', '{"b": 5}']::jsonb[],
    ARRAY[pg_temp.hdr('x'), NULL, pg_temp.hdr('x'), '{}', pg_temp.hdr('a')]::jsonb[]) WITH ORDINALITY AS b(msg_id, n);
SELECT n, msg_id = (SELECT msg_id FROM batch_ids WHERE n = 1) AS same_as_1, msg_id = :a_id AS is_a,
       (SELECT message FROM pgmq.q_dd q WHERE q.msg_id = b.msg_id) AS stored
  FROM batch_ids b ORDER BY n;
-- ids in input order are ascending, so the batch is read in input order
SELECT message FROM pgmq.q_dd WHERE message ? 'b' ORDER BY msg_id;
SELECT count(DISTINCT b.id) FROM pgmq.send_batch('dd', ARRAY['{"c": 1}', '{"c": 2}']::jsonb[],
    ARRAY[pg_temp.hdr('y'), pg_temp.hdr('y')]::jsonb[], 5) AS b(id);
SELECT message FROM pgmq.q_dd WHERE message ? 'c';

-- a rolled-back send leaves its id free
BEGIN;
SELECT pgmq.send('dd', '{"n": "rolled back"}', pg_temp.hdr('r')) IS NOT NULL;
ROLLBACK;
SELECT count(*) FROM pgmq.d_dd WHERE dedup_id = 'r';
SELECT pgmq.send('dd', '{"n": "kept"}', pg_temp.hdr('r')) AS r_id \gset
SELECT message FROM pgmq.q_dd WHERE msg_id = :r_id;

-- expiry: after the window the id is accepted again (a new msg_id), and the
-- clean-up on the send path removes expired records in bounded steps
SELECT pgmq.set_dedup_window('dd', 1);
SELECT pgmq.send('dd', '{"n": "e1"}', pg_temp.hdr('exp')) AS exp_first \gset
SELECT pg_sleep(1.1);
SELECT pgmq.send('dd', '{"n": "e2"}', pg_temp.hdr('exp')) > :exp_first AS accepted_again;
SELECT msg_id = (SELECT max(msg_id) FROM pgmq.q_dd) AS record_points_at_new FROM pgmq.d_dd WHERE dedup_id = 'exp';
SELECT pg_sleep(1.1);
SELECT count(*) AS expired_records FROM pgmq.d_dd WHERE sent_at < clock_timestamp() - interval '1 s';
SELECT count(*) FROM (SELECT pgmq.send('dd', '{}', pg_temp.hdr('fresh' || i)) FROM generate_series(1, 256) i) s;
SELECT count(*) AS records_left, count(*) FILTER (WHERE dedup_id LIKE 'fresh%') AS fresh FROM pgmq.d_dd;

-- bad headers on a queue with a window: 22023, nothing inserted
SELECT count(*) AS before FROM pgmq.q_dd \gset
SELECT pg_temp.err($$SELECT pgmq.send('dd', '{}', '{"x-pgmq-dedup-id": 7}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('dd', '{}', '{"x-pgmq-dedup-id": null}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('dd', '{}', '{"x-pgmq-dedup-id": ["a"]}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('dd', '{}', pg_temp.hdr(''))$$);
SELECT pg_temp.err($$SELECT pgmq.send('dd', '{}', pg_temp.hdr(repeat('x', 129)))$$);
SELECT pg_temp.err($$SELECT pgmq.send_batch('dd', ARRAY['{}', '{}']::jsonb[], ARRAY[pg_temp.hdr('ok1'), pg_temp.hdr('')]::jsonb[])$$);
SELECT count(*) = :before AS nothing_inserted FROM pgmq.q_dd;
SELECT count(*) FROM pgmq.d_dd WHERE dedup_id = 'ok1';

-- bad arguments
SELECT pg_temp.err($$SELECT pgmq.set_dedup_window('dd', -1)$$);
SELECT pg_temp.err($$SELECT pgmq.set_dedup_window('dd', 1209601)$$);
SELECT pg_temp.err($$SELECT pgmq.set_dedup_window('no_such_queue', 60)$$);
SELECT pg_temp.err($$SELECT pgmq.set_dedup_window('bad name', 60)$$);
SELECT pg_temp.err($$SELECT pgmq.set_dedup_window(NULL, 60)$$);
SELECT window_seconds FROM pgmq.dedup_settings WHERE queue_name = 'dd';

-- a producer granted INSERT on the queue may send with ids
SET client_min_messages = warning;
DROP ROLE IF EXISTS dd_producer;
RESET client_min_messages;
CREATE ROLE dd_producer;
GRANT INSERT, SELECT (msg_id) ON pgmq.q_dd TO dd_producer;
SELECT pgmq.set_dedup_window('dd', 300);
SET ROLE dd_producer;
SELECT pgmq.send('dd', '{"p": 1}', pg_temp.hdr('prod')) AS p1 \gset
SELECT pgmq.send('dd', '{"p": 2}', pg_temp.hdr('prod')) = :p1 AS same;
RESET ROLE;

-- a transaction may send many ids (no lock table entry per id)
SELECT count(*) FROM pgmq.send_batch('dd', array_fill('{"many": 1}'::jsonb, ARRAY[20000]),
    ARRAY(SELECT pg_temp.hdr('many' || i) FROM generate_series(1, 20000) i));
SELECT count(*) FROM pgmq.q_dd WHERE message ? 'many';
SELECT count(*) FROM pgmq.d_dd WHERE dedup_id LIKE 'many%';

-- turning off: NULL or 0 drops the ids; the header is ordinary again
SELECT pgmq.set_dedup_window('dd', NULL);
SELECT count(*) FROM pgmq.dedup_settings;
SELECT to_regclass('pgmq.d_dd');
SELECT pgmq.send('dd', '{"p": 3}', pg_temp.hdr('prod')) <> :p1 AS accepted;
SELECT pgmq.set_dedup_window('dd', 0);

-- an unlogged queue gets an unlogged id table; dropping a queue drops it
SELECT pgmq.create_unlogged('dd_unlogged');
SELECT pgmq.set_dedup_window('dd_unlogged', 60);
SELECT relpersistence FROM pg_class WHERE oid = 'pgmq.d_dd_unlogged'::regclass;
SELECT pgmq.drop_queue('dd_unlogged');
SELECT to_regclass('pgmq.d_dd_unlogged'), count(*) FROM pgmq.dedup_settings;

-- pgmq.stats counts every send call, and as sent only the messages stored
SELECT pgmq.create('dd_stats');
SELECT pgmq.set_dedup_window('dd_stats', 60);
SELECT count(*) AS ids FROM (
    SELECT pgmq.send('dd_stats', '{}', pg_temp.hdr('s1'))
    UNION ALL SELECT pgmq.send('dd_stats', '{}', pg_temp.hdr('s1'))) x;
SELECT count(*) AS ids FROM pgmq.send_batch('dd_stats', ARRAY['{}', '{}', '{}']::jsonb[],
    ARRAY[pg_temp.hdr('s2'), pg_temp.hdr('s2'), '{}']::jsonb[]);
SELECT sends, messages_sent, queue_length_estimate FROM pgmq.stats WHERE queue_name = 'dd_stats';
SELECT count(*) AS stored FROM pgmq.q_dd_stats;
SELECT pgmq.drop_queue('dd_stats');

SELECT pgmq.drop_queue('dd');
REVOKE ALL ON SCHEMA pgmq FROM dd_producer;
DROP ROLE dd_producer;
