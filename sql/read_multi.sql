-- read_multi: reading several queues at once (issue 16): merge order across
-- queues, visibility, dead-letter policies, the polling form, and every
-- argument error (raised before anything is read).  Races are in
-- test/specs/read_multi_*.spec.
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

SELECT pgmq.create('rm_a');
SELECT pgmq.create('rm_b');
SELECT pgmq.create('rm_c');

-- visible messages in send order across queues, one delayed, one hidden
SELECT pgmq.send('rm_a', '{"n": 1}');
SELECT pgmq.send('rm_b', '{"n": 2}');
SELECT pgmq.send('rm_c', '{"n": 3}', 3600);          -- delayed: never read here
SELECT pgmq.send('rm_a', '{"n": 4}');
SELECT pgmq.send('rm_c', '{"n": 5}');
SELECT pgmq.send('rm_b', '{"n": 6}');
SELECT count(*) FROM pgmq.read('rm_b', 3600, 1) WHERE message = '{"n": 2}';  -- hides n 2

-- oldest visible first across the queues; queue names case-insensitive and
-- given back as pgmq.meta spells them (as created); the message_record
-- columns follow
SELECT queue_name, message, read_ct, vt > clock_timestamp() + interval '20 s' AS hidden
  FROM pgmq.read_multi(ARRAY['RM_A', 'rm_b', 'rm_c'], 30, 3);
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_a', 'rm_b', 'rm_c'], 30, 10);
-- nothing visible left
SELECT count(*) FROM pgmq.read_multi(ARRAY['rm_a', 'rm_b', 'rm_c'], 30, 10);
-- what was read is hidden in its own queue, and counted there
SELECT count(*) FROM pgmq.read('rm_a', 30, 10);
SELECT msg_id, read_ct FROM pgmq.q_rm_a ORDER BY msg_id;

-- vt = 0 reads without hiding (vt becomes the time of the read); qty limits
-- the batch; equal vt: the queue named first in the array comes first
SELECT pgmq.purge_queue('rm_a') + pgmq.purge_queue('rm_b') + pgmq.purge_queue('rm_c');
SELECT pgmq.send_batch('rm_b', ARRAY['{"b": 1}', '{"b": 2}']::jsonb[], '2000-01-01 00:00+00'::timestamptz);
SELECT pgmq.send_batch('rm_a', ARRAY['{"a": 1}', '{"a": 2}']::jsonb[], '2000-01-01 00:00+00'::timestamptz);
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_a', 'rm_b'], 0, 3);
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_b', 'rm_a'], 0, 4);
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_b'], 0, 1);

-- a queue created with capitals is returned with them, however the call
-- spells it (each queue its own spelling)
SELECT pgmq.create('Rm_Case');
SELECT pgmq.create('RM_case2');
SELECT pgmq.send('rm_case', '{"case": 1}');
SELECT pgmq.send('RM_CASE2', '{"case": 2}');
SELECT pgmq.send('RM_CASE', '{"case": 3}');
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_CASE', 'rm_case2'], 30, 2);
SELECT queue_name, message FROM pgmq.read_multi_with_poll(ARRAY['rm_case2', 'RM_case'], 30, 1, 0);
SELECT pgmq.drop_queue('rm_case'), pgmq.drop_queue('rm_case2');

-- a read that rolls back leaves the messages as they were
BEGIN;
SELECT count(*) FROM pgmq.read_multi(ARRAY['rm_a', 'rm_b'], 30, 10);
ROLLBACK;
SELECT count(*) FROM pgmq.read_multi(ARRAY['rm_a', 'rm_b'], 30, 10);

-- dead-letter policy of a listed queue: poison messages are moved, not delivered
SELECT pgmq.create('rm_dlq');
SELECT pgmq.set_dead_letter_queue('rm_c', 'rm_dlq', 2);
SELECT pgmq.send('rm_c', '{"poison": true}');
SELECT count(*) FROM pgmq.read_multi(ARRAY['rm_c'], 0, 1);
SELECT count(*) FROM pgmq.read_multi(ARRAY['rm_c'], 0, 1);
SELECT count(*) FROM pgmq.read_multi(ARRAY['rm_c', 'rm_a'], 0, 1);   -- moved
SELECT message, headers->'x-pgmq-dead-letter'->>'queue' AS from_queue FROM pgmq.q_rm_dlq;
SELECT count(*) FROM pgmq.q_rm_c;

-- polling form: returns at once when something is visible, waits up to
-- max_poll_seconds otherwise
SELECT pgmq.send('rm_b', '{"late": 1}');
SELECT queue_name, message FROM pgmq.read_multi_with_poll(ARRAY['rm_a', 'rm_b'], 30, 5);
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM pgmq.read_multi_with_poll(ARRAY['rm_a', 'rm_b'], 30, 5, 1, 50);
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '1 s' AS waited;
SELECT count(*) FROM pgmq.read_multi_with_poll(ARRAY['rm_a', 'rm_b'], 30, 5, 0);

-- bad input: an error naming the problem, and nothing read
SELECT pgmq.send('rm_a', '{"untouched": true}');
SELECT pg_temp.err($$SELECT pgmq.read_multi(NULL, 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi('{}', 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', NULL], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY[['rm_a'], ['rm_b']], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', 'rm_A'], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', 'no_such_queue'], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', 'bad name'], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', 'x'';drop table pgmq.meta;--'], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', ''], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a', repeat('x', 48)], 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY(SELECT 'q' || i FROM generate_series(1, 33) i), 30, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a'], -1, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a'], NULL, 1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a'], 30, 0)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a'], 30, NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi_with_poll(ARRAY['rm_a'], 30, 1, -1)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi_with_poll(ARRAY['rm_a'], 30, 1, 1, 0)$$);
SELECT pg_temp.err($$SELECT pgmq.read_multi_with_poll(ARRAY['rm_a', 'no_such_queue'], 30, 1)$$);
SELECT read_ct FROM pgmq.q_rm_a WHERE message ? 'untouched';

-- a read-only transaction cannot read (reading changes vt)
BEGIN READ ONLY;
SELECT pg_temp.err($$SELECT pgmq.read_multi(ARRAY['rm_a'], 30, 1)$$);
ROLLBACK;

SELECT pgmq.drop_queue('rm_a'), pgmq.drop_queue('rm_b'), pgmq.drop_queue('rm_c'), pgmq.drop_queue('rm_dlq');
