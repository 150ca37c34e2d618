-- dead_letter: dead-letter policies (set/clear/list), the move of poison
-- messages by every read-style function, redrive, metrics, and every error.
-- Races between sessions are in test/specs/dead_letter_*.spec.
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

-- the dead-letter header of a message, without its timestamps (checked apart)
CREATE FUNCTION pg_temp.dl(h jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT h #- '{x-pgmq-dead-letter,enqueued_at}' #- '{x-pgmq-dead-letter,dead_lettered_at}'
$$;

-- a consumer that always fails: read one message (fn = read, read_with_poll,
-- read_grouped, read_grouped_rr), never delete it, let it expire at once
-- (vt 0), and go on until nothing is delivered; returns the deliveries
CREATE FUNCTION pg_temp.failing_consumer(fn text, q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    n int := 0;
    got int;
BEGIN
    LOOP
        EXECUTE format('SELECT count(*) FROM pgmq.%s(%L, 0, 1%s)', fn, q,
                       CASE WHEN fn LIKE '%poll' THEN ', 0, 10' ELSE '' END) INTO got;
        EXIT WHEN got = 0;
        n := n + got;
        IF n > 100 THEN RAISE EXCEPTION 'the message never left the queue'; END IF;
    END LOOP;
    RETURN n;
END $$;

SELECT pgmq.create('dl_src');
SELECT pgmq.create('dl_dlq');
SELECT pgmq.create('dl_other');

-- set, replace, list, clear
SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_other', 5);
SELECT * FROM pgmq.list_dead_letter_policies();
SELECT pgmq.set_dead_letter_queue('DL_SRC', 'DL_DLQ', 3);    -- replaces; names fold to lower case
SELECT * FROM pgmq.list_dead_letter_policies();
SELECT pgmq.clear_dead_letter_queue('dl_src');
SELECT pgmq.clear_dead_letter_queue('dl_src');               -- no policy any more
SELECT * FROM pgmq.list_dead_letter_policies();
SELECT pgmq.set_dead_letter_queue(queue_name => 'dl_src', dead_letter_queue => 'dl_dlq',
                                  max_read_ct => 3);

-- errors
SELECT pg_temp.err(sql) FROM unnest(ARRAY[
    $$SELECT pgmq.set_dead_letter_queue(NULL, 'dl_dlq', 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', NULL, 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_dlq', NULL)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_dlq', 0)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_dlq', -1)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_src', 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'DL_src', 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('nope', 'dl_dlq', 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'nope', 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('bad name', 'dl_dlq', 3)$$,
    $$SELECT pgmq.set_dead_letter_queue('dl_src', 'bad;name', 3)$$,
    $$SELECT pgmq.clear_dead_letter_queue(NULL)$$,
    $$SELECT pgmq.clear_dead_letter_queue('nope')$$,
    $$SELECT pgmq.clear_dead_letter_queue('bad name')$$,
    $$SELECT pgmq.redrive(NULL)$$,
    $$SELECT pgmq.redrive('nope')$$,
    $$SELECT pgmq.redrive('bad name')$$,
    $$SELECT pgmq.redrive('dl_dlq', 'nope')$$,
    $$SELECT pgmq.redrive('dl_dlq', 'dl_dlq')$$,
    $$SELECT pgmq.redrive('dl_dlq', NULL, 0)$$,
    $$SELECT pgmq.redrive('dl_dlq', 'dl_src', -2)$$]) sql;
SELECT * FROM pgmq.list_dead_letter_policies();              -- unchanged by the errors

-- read: a consumer that always fails gets the message exactly max_read_ct
-- times, then it sits in the dead-letter queue
SELECT pgmq.send('dl_src', '{"job": "poison"}', '{"trace": "t1"}'::jsonb);
SELECT pg_temp.failing_consumer('read', 'dl_src') AS deliveries;
SELECT count(*) AS left_in_queue FROM pgmq.q_dl_src;
SELECT msg_id, read_ct, message, pg_temp.dl(headers) AS headers,
       (headers->'x-pgmq-dead-letter'->>'dead_lettered_at')::timestamptz <= clock_timestamp() AS at_ok,
       (headers->'x-pgmq-dead-letter'->>'enqueued_at')::timestamptz <= enqueued_at AS enqueued_ok,
       vt <= clock_timestamp() AS visible
  FROM pgmq.q_dl_dlq;
SELECT queue_name, queue_length, dead_lettered FROM pgmq.metrics('dl_src');

-- the same for read_with_poll, read_grouped and read_grouped_rr (one
-- message at a time, so each consumer meets only its own)
CREATE FUNCTION pg_temp.one_failing(fn text) RETURNS int LANGUAGE sql AS $$
    SELECT pgmq.send('dl_src', jsonb_build_object('fn', fn), jsonb_build_object('x-pgmq-group', fn));
    SELECT pg_temp.failing_consumer(fn, 'dl_src');
$$;
SELECT fn, pg_temp.one_failing(fn) AS deliveries
  FROM unnest(ARRAY['read_with_poll', 'read_grouped', 'read_grouped_rr']) WITH ORDINALITY AS f(fn, o)
 ORDER BY o;
SELECT msg_id, read_ct, message, pg_temp.dl(headers) AS headers FROM pgmq.q_dl_dlq ORDER BY msg_id;
SELECT queue_name, queue_length, dead_lettered FROM pgmq.metrics_all()
 WHERE queue_name LIKE 'dl_%' ORDER BY 1;

-- a changed policy applies from the next read on
SELECT pgmq.send('dl_src', '{"limit": "changes"}');
SELECT msg_id, read_ct FROM pgmq.read('dl_src', 0, 1);
SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_dlq', 1);
SELECT msg_id, read_ct FROM pgmq.read('dl_src', 0, 1);
SELECT message FROM pgmq.q_dl_dlq ORDER BY msg_id DESC LIMIT 1;
SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_dlq', 3);

-- the batch is filled from the messages after the dead letters
SELECT pgmq.purge_queue('dl_dlq');
SELECT pgmq.send('dl_src', jsonb_build_object('n', i)) FROM generate_series(1, 5) i;
UPDATE pgmq.q_dl_src SET read_ct = 3 WHERE message->>'n' IN ('1', '3');
SELECT msg_id, read_ct, message FROM pgmq.read('dl_src', 30, 3);
SELECT msg_id, message FROM pgmq.q_dl_dlq ORDER BY msg_id;
-- a message below the limit is delivered; one hidden (in flight) is not moved
SELECT pgmq.purge_queue('dl_src'), pgmq.purge_queue('dl_dlq');
SELECT pgmq.send('dl_src', '{"hidden": true}', 600);
UPDATE pgmq.q_dl_src SET read_ct = 9;
SELECT pgmq.send('dl_src', '{"fresh": true}');
SELECT msg_id, read_ct, message FROM pgmq.read('dl_src', 30, 5);
SELECT count(*) AS moved FROM pgmq.q_dl_dlq;

-- conditional read: only messages the read would deliver are looked at
SELECT pgmq.purge_queue('dl_src');
SELECT pgmq.send('dl_src', '{"kind": "a"}'), pgmq.send('dl_src', '{"kind": "b"}');
UPDATE pgmq.q_dl_src SET read_ct = 3;
SELECT msg_id, message FROM pgmq.read('dl_src', 30, 5, '{"kind": "b"}');
SELECT message FROM pgmq.q_dl_src;
SELECT message FROM pgmq.q_dl_dlq;

-- pop is unaffected: it deletes on delivery, whatever read_ct is
SELECT msg_id, read_ct, message FROM pgmq.pop('dl_src');

-- FIFO groups: a dead letter at the head no longer holds back its group
-- (a: 1 dead, 2, 3; b: 1 dead, 2 dead, 3)
CREATE FUNCTION pg_temp.groups_with_dead_heads() RETURNS void LANGUAGE sql AS $$
    SELECT pgmq.purge_queue('dl_src'), pgmq.purge_queue('dl_dlq');
    SELECT pgmq.send('dl_src', jsonb_build_object('g', g, 'i', i), jsonb_build_object('x-pgmq-group', g))
      FROM generate_series(1, 3) i, unnest(ARRAY['a', 'b']) g ORDER BY i, g;
    UPDATE pgmq.q_dl_src SET read_ct = 3
     WHERE message->>'i' = '1' OR (message->>'g' = 'b' AND message->>'i' = '2');
$$;
SELECT pg_temp.groups_with_dead_heads();
SELECT message FROM pgmq.read_grouped('dl_src', 30, 3);
SELECT message FROM pgmq.q_dl_dlq ORDER BY msg_id;
SELECT pg_temp.groups_with_dead_heads();
SELECT message FROM pgmq.read_grouped_rr('dl_src', 30, 3);
SELECT message FROM pgmq.q_dl_dlq ORDER BY msg_id;

-- a dead letter that is not at the head waits its turn like any message
SELECT pgmq.purge_queue('dl_src'), pgmq.purge_queue('dl_dlq');
SELECT pgmq.send('dl_src', jsonb_build_object('i', i), '{"x-pgmq-group": "c"}'::jsonb)
  FROM generate_series(1, 3) i;
UPDATE pgmq.q_dl_src SET read_ct = 3 WHERE message->>'i' = '3';
UPDATE pgmq.q_dl_src SET vt = now() + interval '1 hour' WHERE message->>'i' = '2';
SELECT msg_id, message FROM pgmq.read_grouped('dl_src', 30, 3);
SELECT count(*) AS moved FROM pgmq.q_dl_dlq;

-- the move rolls back with the read
SELECT pgmq.purge_queue('dl_src'), pgmq.purge_queue('dl_dlq');
SELECT pgmq.send('dl_src', '{"rb": 1}');
UPDATE pgmq.q_dl_src SET read_ct = 3;
SELECT dead_lettered AS before FROM pgmq.metrics('dl_src') \gset
BEGIN;
SELECT count(*) AS delivered FROM pgmq.read('dl_src', 30, 1);
SELECT count(*) AS in_dlq FROM pgmq.q_dl_dlq;
ROLLBACK;
SELECT message, read_ct FROM pgmq.q_dl_src;
SELECT count(*) AS in_dlq FROM pgmq.q_dl_dlq;
SELECT dead_lettered = :before AS count_unchanged FROM pgmq.metrics('dl_src');

-- redrive: back to the queue each came from, oldest first, at most qty,
-- read_ct reset, headers as they were (NULL, object, array)
SELECT pgmq.purge_queue('dl_src'), pgmq.purge_queue('dl_dlq');
SELECT pgmq.set_dead_letter_queue('dl_other', 'dl_dlq', 1);
SELECT pgmq.send('dl_src', '{"r": 1}');
SELECT pgmq.send('dl_src', '{"r": 2}', '{"x-pgmq-group": "g2", "k": 1}'::jsonb);
SELECT pgmq.send('dl_other', '{"r": 3}', '[1, 2]'::jsonb);
SELECT pgmq.send('dl_src', '{"r": 4}');
UPDATE pgmq.q_dl_src SET read_ct = 3;
UPDATE pgmq.q_dl_other SET read_ct = 1;
SELECT count(*) FROM pgmq.read('dl_src', 30, 10);
SELECT count(*) FROM pgmq.read('dl_other', 30, 10);
SELECT pgmq.send('dl_dlq', '{"not": "dead-lettered"}');
SELECT msg_id, message, pg_temp.dl(headers) FROM pgmq.q_dl_dlq ORDER BY msg_id;
SELECT pgmq.redrive('dl_dlq', qty => 2);
SELECT msg_id, read_ct, message, headers FROM pgmq.q_dl_src ORDER BY msg_id;
SELECT pgmq.redrive('dl_dlq');
SELECT msg_id, read_ct, message, headers FROM pgmq.q_dl_src ORDER BY msg_id;
SELECT msg_id, read_ct, message, headers FROM pgmq.q_dl_other ORDER BY msg_id;
SELECT message FROM pgmq.q_dl_dlq;                           -- only the plain message is left
SELECT pgmq.redrive('dl_dlq');                               -- nothing to move
-- into a queue of your choice
UPDATE pgmq.q_dl_src SET read_ct = 3;
SELECT count(*) FROM pgmq.read('dl_src', 30, 10);
SELECT pgmq.redrive(dead_letter_queue => 'dl_dlq', queue_name => 'DL_OTHER');
SELECT message, read_ct, headers FROM pgmq.q_dl_other ORDER BY msg_id;
-- the queue a message came from is gone: an error, nothing moves
SELECT pgmq.send('dl_dlq', '{"orphan": 1}', '{"x-pgmq-dead-letter": {"queue": "gone_queue"}}'::jsonb);
SELECT pg_temp.err($$SELECT pgmq.redrive('dl_dlq')$$);
SELECT count(*) FROM pgmq.q_dl_dlq;

-- dropping the dead-letter queue removes the policy; reads then deliver
SELECT pgmq.purge_queue('dl_src');
SELECT pgmq.send('dl_src', '{"after": "drop"}');
UPDATE pgmq.q_dl_src SET read_ct = 7;
SELECT pgmq.drop_queue('dl_dlq');
SELECT * FROM pgmq.list_dead_letter_policies();
SELECT msg_id, read_ct, message FROM pgmq.read('dl_src', 30, 1);
-- dropping the source queue removes its policy and its count
SELECT pgmq.create('dl_dlq');
SELECT pgmq.set_dead_letter_queue('dl_src', 'dl_dlq', 2);
SELECT pgmq.drop_queue('dl_src');
SELECT * FROM pgmq.list_dead_letter_policies();
SELECT count(*) FROM pgmq.dead_letter_counts WHERE queue_name = 'dl_src';

-- a consumer role with only queue-table privileges: its reads move poison
-- messages and count them with its own rights; it may write only the count
-- of a queue it may consume from (DELETE), and only upwards
SELECT pgmq.create('dl_role_q');
SELECT pgmq.create('dl_role_dlq');
SELECT pgmq.set_dead_letter_queue('dl_role_q', 'dl_role_dlq', 1);
SELECT pgmq.send('dl_role_q', '{"poison": true}');
CREATE ROLE dl_consumer;
GRANT SELECT, UPDATE, DELETE ON pgmq.q_dl_role_q TO dl_consumer;
GRANT INSERT, SELECT (msg_id) ON pgmq.q_dl_role_dlq TO dl_consumer;
SET ROLE dl_consumer;
SELECT msg_id, read_ct FROM pgmq.read('dl_role_q', 0, 1);    -- delivered (read_ct 1)
SELECT msg_id, read_ct FROM pgmq.read('dl_role_q', 0, 1);    -- moved, nothing delivered
SELECT pg_temp.err('INSERT INTO pgmq.dead_letter_counts VALUES (''dl_role_dlq'', 0, 1000)');
SELECT pg_temp.err('UPDATE pgmq.dead_letter_counts SET moved = 0 WHERE queue_name = ''dl_role_q''');
SELECT pg_temp.err('DELETE FROM pgmq.dead_letter_counts');
RESET ROLE;
SELECT queue_name, dead_lettered FROM pgmq.metrics('dl_role_q');
SELECT count(*) AS in_dlq FROM pgmq.q_dl_role_dlq;
SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['dl_role_q', 'dl_role_dlq']) q;
DROP ROLE dl_consumer;

-- the 1.1 columns and functions
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'pgmq.metrics_result'::regclass AND attnum > 0 ORDER BY attnum;
SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)
  FROM pg_proc p WHERE p.pronamespace = 'pgmq'::regnamespace
   AND p.proname IN ('set_dead_letter_queue', 'clear_dead_letter_queue', 'redrive',
                     'list_dead_letter_policies')
 ORDER BY 1;

SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['dl_dlq', 'dl_other']) q;
