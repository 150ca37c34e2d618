-- priority: x-pgmq-priority on a prioritised queue (issue 16): read order
-- (priority, then vt, msg_id) for read, read_with_poll and pop; in-flight
-- and delayed messages; retention; plans; bad headers; enable/disable.
-- Races: test/specs/priority_read.spec.
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
CREATE FUNCTION pg_temp.p(prio int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('x-pgmq-priority', prio)
$$;

SELECT pgmq.create('pr');
-- before opting in the header is ordinary, any value goes
SELECT pgmq.send('pr', '{"n": 0}', '{"x-pgmq-priority": "high"}'::jsonb) > 0 AS sent;
-- ... but not for enable_priorities, which needs every priority to be a number
SELECT pg_temp.err($$SELECT pgmq.enable_priorities('pr')$$);
SELECT message FROM pgmq.pop('pr');
SELECT pgmq.enable_priorities('pr');
SET client_min_messages = warning;
SELECT pgmq.enable_priorities('pr');          -- again: no-op
RESET client_min_messages;
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'pgmq.q_pr'::regclass ORDER BY 1;

-- ten messages of mixed priorities (absent = 0), one hidden, one delayed
SELECT count(*) FROM pgmq.send_batch('pr',
    ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}', '{"n": 5}', '{"n": 6}']::jsonb[],
    ARRAY[pg_temp.p(1), NULL, pg_temp.p(9), '{}', pg_temp.p(1), pg_temp.p(5)]::jsonb[]);
SELECT pgmq.send('pr', '{"n": 7}', pg_temp.p(9), 3600) > 0 AS delayed_9;
SELECT pgmq.send('pr', '{"n": 8}', pg_temp.p(0)) > 0 AS explicit_0;
SELECT pgmq.send('pr', '{"n": 9}', pg_temp.p(5)) > 0 AS second_5;

SELECT message, headers FROM pgmq.read('pr', 30, 1);                   -- 9 first
SELECT message, headers->>'x-pgmq-priority' AS prio FROM pgmq.read('pr', 30, 3);  -- 5, 5, 1
SELECT message FROM pgmq.read_with_poll('pr', 30, 2, 1, 10);           -- 1, then 0: n 2
SELECT message FROM pgmq.pop('pr', 10);                                -- the 0s in (vt, msg_id) order
SELECT count(*) FROM pgmq.read('pr', 30, 10);                          -- the delayed 9 stays hidden

-- an expired visibility timeout comes back in its priority, by its new vt
SELECT pgmq.purge_queue('pr') >= 0;
SELECT pgmq.send('pr', '{"a": "low"}', pg_temp.p(2));
SELECT pgmq.send('pr', '{"a": "high"}', pg_temp.p(7));
SELECT message FROM pgmq.read('pr', 0, 1);
SELECT message FROM pgmq.read('pr', 0, 2);
SELECT message FROM pgmq.read('pr', 0, 1, '{"a": "low"}');

-- bad priorities on a prioritised queue: 22023, nothing sent
SELECT pgmq.purge_queue('pr') >= 0;
SELECT pg_temp.err($$SELECT pgmq.send('pr', '{}', '{"x-pgmq-priority": 10}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('pr', '{}', '{"x-pgmq-priority": -1}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('pr', '{}', '{"x-pgmq-priority": 1.5}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('pr', '{}', '{"x-pgmq-priority": "5"}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send('pr', '{}', '{"x-pgmq-priority": null}'::jsonb)$$);
SELECT pg_temp.err($$SELECT pgmq.send_batch('pr', ARRAY['{}', '{}']::jsonb[], ARRAY[pg_temp.p(3), pg_temp.p(12)])$$);
SELECT count(*) AS nothing_sent FROM pgmq.q_pr;

-- with a message retention the priority read skips expired messages too
SELECT pgmq.set_retention('pr', '1 hour', NULL);
SELECT pgmq.send('pr', '{"r": "old"}', pg_temp.p(9));
SELECT pgmq.send('pr', '{"r": "new"}', pg_temp.p(1));
UPDATE pgmq.q_pr SET enqueued_at = now() - interval '2 hours' WHERE message->>'r' = 'old';
SELECT message FROM pgmq.read('pr', 30, 10);
SELECT pgmq.set_retention('pr', NULL, NULL);

-- the read plan of one priority (the pick of src/priority.c, same text):
-- one range scan of the priority index, bounded by vt, no sort
SELECT pgmq.purge_queue('pr') >= 0;
SELECT count(*) FROM pgmq.send_batch('pr', array_fill('{}'::jsonb, ARRAY[300]),
    ARRAY(SELECT pg_temp.p(i % 10) FROM generate_series(1, 300) i));
ANALYZE pgmq.q_pr;
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET enable_material = off;
SET enable_hashjoin = off; SET enable_mergejoin = off;
PREPARE pick(int, timestamptz, int) AS
SELECT msg_id FROM pgmq.q_pr
 WHERE pgmq._message_priority(headers) OPERATOR(pg_catalog.=) $3
 AND (pgmq._message_priority(headers), vt) OPERATOR(pg_catalog.<=) ($3, $2)
 ORDER BY vt, msg_id LIMIT $1 FOR UPDATE SKIP LOCKED;
EXPLAIN (COSTS OFF) EXECUTE pick(10, now(), 5);
RESET plan_cache_mode; RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_sort; RESET enable_material;
RESET enable_hashjoin; RESET enable_mergejoin;
SELECT array_agg(headers->>'x-pgmq-priority') FROM pgmq.read('pr', 30, 12);

-- the walk's short cuts (the priority last delivered from gets no probe;
-- one probe for "anything above it") never hide a message: a higher
-- priority sent after reads from a lower one comes first, a lower one
-- after the last one is used up, and an empty queue reads nothing
SELECT pgmq.purge_queue('pr') >= 0;
SELECT count(*) FROM pgmq.send_batch('pr', ARRAY['{"w": 1}', '{"w": 2}']::jsonb[],
    ARRAY[pg_temp.p(3), pg_temp.p(3)]);
SELECT message FROM pgmq.read('pr', 30, 1);
SELECT pgmq.send('pr', '{"w": 3}', pg_temp.p(7)) > 0 AS sent_7;
SELECT pgmq.send('pr', '{"w": 4}', pg_temp.p(1)) > 0 AS sent_1;
SELECT message FROM pgmq.read('pr', 30, 1);
SELECT message FROM pgmq.read('pr', 30, 1);
SELECT message FROM pgmq.pop('pr');
SELECT count(*) FROM pgmq.read('pr', 30, 1);
SELECT pgmq.send('pr', '{"w": 5}') > 0 AS sent_0;
SELECT message FROM pgmq.read('pr', 30, 5);
SELECT pgmq.purge_queue('pr') >= 0;
SELECT count(*) FROM pgmq.read('pr', 30, 1);
SELECT count(*) FROM pgmq.pop('pr', 3);

-- pgmq._message_priority, the index's first column
SELECT pgmq._message_priority(h) FROM unnest(ARRAY[NULL, '{}', '[1]', '"x"',
    '{"x-pgmq-priority": 4}', '{"x-pgmq-priority": 12}', '{"x-pgmq-priority": -3}',
    '{"x-pgmq-priority": 2.5}']::jsonb[]) h;
SELECT pg_temp.err($$SELECT pgmq._message_priority('{"x-pgmq-priority": "5"}')$$);
SELECT pg_temp.err($$SELECT pgmq._message_priority('{"x-pgmq-priority": null}')$$);

-- disable: the index goes, reads are plain (vt, msg_id) again, any header goes
SELECT pgmq.disable_priorities('pr');
SELECT pgmq.disable_priorities('pr');
SELECT count(*) FROM pg_class WHERE relname = 'q_pr_prio_idx';
SELECT pgmq.send('pr', '{}', '{"x-pgmq-priority": "anything"}'::jsonb) > 0 AS sent;

-- errors
SELECT pg_temp.err($$SELECT pgmq.enable_priorities('no_such_queue')$$);
SELECT pg_temp.err($$SELECT pgmq.enable_priorities('bad name')$$);
SELECT pg_temp.err($$SELECT pgmq.enable_priorities(NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.disable_priorities('no_such_queue')$$);
SELECT pg_temp.err($$SELECT pgmq.disable_priorities(NULL)$$);

SELECT pgmq.drop_queue('pr');
