-- dedup_topic: deduplication of topic sends (issue 16).  send_topic and
-- send_batch_topic deliver a message carrying x-pgmq-dedup-id to each bound
-- queue as send / send_batch would: a queue with a window keeps the id
-- (per queue) and gets nothing the second time, a queue without one inserts
-- as before.  A duplicate delivery still counts as a queue sent to
-- (send_topic) and comes back with the original msg_id (send_batch_topic).
-- A bad id routed to a queue with a window is 22023 and the topic send
-- inserts nothing anywhere.  The race of two topic senders is in
-- test/specs/dedup_topic_race.spec.
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
-- dt_a and dt_c have a window, dt_b (between them in name order) has none
SELECT pgmq.create(q) FROM unnest(ARRAY['dt_a', 'dt_b', 'dt_c']) q;
-- rows per queue, and the messages of each (in msg_id order)
CREATE FUNCTION pg_temp.contents() RETURNS TABLE(queue text, n bigint, messages text)
LANGUAGE sql AS $$
    SELECT 'dt_a', count(*), string_agg(message::text, ' ' ORDER BY msg_id) FROM pgmq.q_dt_a
    UNION ALL
    SELECT 'dt_b', count(*), string_agg(message::text, ' ' ORDER BY msg_id) FROM pgmq.q_dt_b
    UNION ALL
    SELECT 'dt_c', count(*), string_agg(message::text, ' ' ORDER BY msg_id) FROM pgmq.q_dt_c
$$;
CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE sql AS $$
    SELECT pgmq.purge_queue(q) FROM unnest(ARRAY['dt_a', 'dt_b', 'dt_c']) q;
$$;

SELECT pgmq.set_dedup_window('dt_a', 300);
SELECT pgmq.set_dedup_window('dt_c', 300);
SELECT pgmq.bind_topic('ev.#', q) FROM unnest(ARRAY['dt_a', 'dt_b', 'dt_c']) q;
-- bc.*: the queue without a window first, then one with
SELECT pgmq.bind_topic('bc.*', q) FROM unnest(ARRAY['dt_b', 'dt_c']) q;
SELECT pgmq.bind_topic('b.only', 'dt_b');

-- send_topic: every call counts the three queues; the windowed ones
-- store the id's message once, dt_b every time
SELECT pgmq.send_topic('ev.x', '{"n": 1}', pg_temp.hdr('k1'), 0);
SELECT pgmq.send_topic('ev.x', '{"n": 2}', pg_temp.hdr('k1'), 0);
SELECT pgmq.send_topic('ev.x.y', '{"n": 3}', pg_temp.hdr('k1'), 5);
SELECT * FROM pg_temp.contents();
-- the id is the queue's: send and send_topic share it
SELECT pgmq.send('dt_a', '{"n": 4}', pg_temp.hdr('k1')) = (SELECT msg_id FROM pgmq.q_dt_a) AS send_gets_topic_id;
SELECT msg_id = (SELECT msg_id FROM pgmq.q_dt_a) AS a_record,
       (SELECT msg_id = (SELECT q.msg_id FROM pgmq.q_dt_c q) FROM pgmq.d_dt_c WHERE dedup_id = 'k1') AS c_record
  FROM pgmq.d_dt_a WHERE dedup_id = 'k1';
-- ... and it is remembered per queue: an id dt_a got by send is still new to dt_c
SELECT pgmq.send('dt_a', '{"n": 5}', pg_temp.hdr('k2')) AS a_k2 \gset
SELECT pgmq.send_topic('ev.x', '{"n": 6}', pg_temp.hdr('k2'), 0);
SELECT msg_id = :a_k2 AS a_kept_its_k2 FROM pgmq.d_dt_a WHERE dedup_id = 'k2';
SELECT * FROM pg_temp.contents();
-- the original consumed (deleted, archived): still nothing inserted
SELECT pgmq.delete('dt_a', (SELECT msg_id FROM pgmq.q_dt_a WHERE message = '{"n": 1}'));
SELECT pgmq.archive('dt_c', (SELECT msg_id FROM pgmq.q_dt_c WHERE message = '{"n": 1}'));
SELECT pgmq.send_topic('ev.x', '{"n": 7}', pg_temp.hdr('k1'), 0);
SELECT * FROM pg_temp.contents();
-- no dedup header: every queue gets the message, as before
SELECT pgmq.send_topic('ev.x', '{"n": 8}');
SELECT pgmq.send_topic('ev.x', '{"n": 9}', '{"other": "k1"}'::jsonb, 0);
SELECT * FROM pg_temp.contents();

-- a rolled-back topic send leaves the id free in every queue
BEGIN;
SELECT pgmq.send_topic('ev.x', '{"n": "rolled back"}', pg_temp.hdr('r'), 0);
ROLLBACK;
SELECT (SELECT count(*) FROM pgmq.d_dt_a WHERE dedup_id = 'r') + (SELECT count(*) FROM pgmq.d_dt_c WHERE dedup_id = 'r') AS records;
SELECT pgmq.send_topic('ev.x', '{"n": "kept"}', pg_temp.hdr('r'), 0);
SELECT queue, n FROM pg_temp.contents();

-- send_batch_topic: per queue, a repeated id gets its first element's
-- msg_id at both places and a known id its original; dt_b stores all
SELECT pg_temp.reset();
SELECT pgmq.send_topic('ev.x', '{"n": "known"}', pg_temp.hdr('known'), 0);
CREATE TEMP TABLE bt AS
SELECT n, queue_name, msg_id
  FROM pgmq.send_batch_topic('ev.x',
    ARRAY['{"b": 1}', '{"b": 2}', '{"b": 3}', '{"b": 4}', '{"b": 5}']::jsonb[],
    ARRAY[pg_temp.hdr('x'), NULL, pg_temp.hdr('x'), '{}', pg_temp.hdr('known')]::jsonb[])
  WITH ORDINALITY AS b(queue_name, msg_id, n);
-- per queue, the rows in input order: pos, and the message stored under the
-- msg_id returned
SELECT queue_name, n - min(n) OVER (PARTITION BY queue_name) + 1 AS pos,
       msg_id = first_value(msg_id) OVER (PARTITION BY queue_name ORDER BY n) AS same_as_1,
       CASE queue_name
         WHEN 'dt_a' THEN (SELECT message::text FROM pgmq.q_dt_a q WHERE q.msg_id = bt.msg_id)
         WHEN 'dt_b' THEN (SELECT message::text FROM pgmq.q_dt_b q WHERE q.msg_id = bt.msg_id)
         WHEN 'dt_c' THEN (SELECT message::text FROM pgmq.q_dt_c q WHERE q.msg_id = bt.msg_id)
       END AS stored
  FROM bt ORDER BY n;
SELECT * FROM pg_temp.contents();
-- the same batch again: nothing new in dt_a and dt_c
SELECT queue_name, count(*) AS rows_returned
  FROM pgmq.send_batch_topic('ev.x', ARRAY['{"b": 6}', '{"b": 7}']::jsonb[],
                             ARRAY[pg_temp.hdr('x'), pg_temp.hdr('known')]::jsonb[], 0)
 GROUP BY 1 ORDER BY 1;
SELECT queue, n FROM pg_temp.contents();
-- every send_batch_topic overload with headers deduplicates
SELECT count(*) FROM pgmq.send_batch_topic('ev.x', ARRAY['{"b": 8}']::jsonb[],
                                           ARRAY[pg_temp.hdr('x')]::jsonb[], clock_timestamp());
SELECT count(*) FROM pgmq.send_batch_topic('ev.x', ARRAY['{"b": 9}']::jsonb[],
                                           ARRAY[pg_temp.hdr('x')]::jsonb[]);
SELECT queue, n FROM pg_temp.contents();

-- pgmq.stats: the duplicate deliveries are calls, not messages sent
SELECT queue_name, messages_sent FROM pgmq.stats WHERE queue_name IN ('dt_a', 'dt_b', 'dt_c') ORDER BY 1;

-- a bad id routed to a queue with a window: 22023, and no queue keeps the
-- message -- not even dt_b, which is written first
SELECT pg_temp.reset();
SELECT pg_temp.err($$SELECT pgmq.send_topic('bc.x', '{}', '{"x-pgmq-dedup-id": 7}'::jsonb, 0)$$);
SELECT pg_temp.err($$SELECT pgmq.send_topic('bc.x', '{}', pg_temp.hdr(''), 0)$$);
SELECT pg_temp.err($$SELECT pgmq.send_topic('bc.x', '{}', pg_temp.hdr(repeat('x', 129)), 0)$$);
SELECT pg_temp.err($$SELECT pgmq.send_batch_topic('bc.x', ARRAY['{}', '{}']::jsonb[],
                                                  ARRAY[pg_temp.hdr('fine'), pg_temp.hdr('')]::jsonb[])$$);
SELECT pg_temp.err($$SELECT pgmq.send_batch_topic('ev.x', ARRAY['{}']::jsonb[],
                                                  ARRAY['{"x-pgmq-dedup-id": null}']::jsonb[], 0)$$);
-- the same failure as a statement of its own
SELECT pgmq.send_topic('bc.x', '{}', '{"x-pgmq-dedup-id": ["a"]}'::jsonb, 0);
SELECT queue, n FROM pg_temp.contents();
SELECT (SELECT count(*) FROM pgmq.d_dt_a WHERE dedup_id = 'fine') + (SELECT count(*) FROM pgmq.d_dt_c WHERE dedup_id = 'fine') AS records;
-- routed to no queue with a window, the header is an ordinary header
SELECT pgmq.send_topic('b.only', '{}', '{"x-pgmq-dedup-id": 7}'::jsonb, 0);
SELECT queue, n FROM pg_temp.contents();

-- turning a window off: that queue inserts as before, the other still deduplicates
SELECT pg_temp.reset();
SELECT pgmq.set_dedup_window('dt_a', 0);
SELECT pgmq.send_topic('ev.x', '{"n": 1}', pg_temp.hdr('off'), 0);
SELECT pgmq.send_topic('ev.x', '{"n": 2}', pg_temp.hdr('off'), 0);
SELECT * FROM pg_temp.contents();

SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['dt_a', 'dt_b', 'dt_c']) q;
