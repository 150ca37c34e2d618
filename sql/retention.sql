-- retention: pgmq.set_retention / apply_retention (issue 16): expired
-- messages are never delivered (read, read_with_poll, pop), removed in
-- bounded steps and counted in metrics; old archive rows removed; every
-- error.  A consumer holding an expired message: test/specs/retention_held.spec.
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

SELECT pgmq.create('rt');
SELECT pgmq.set_retention('rt', '1 hour', '2 days');
SELECT queue_name, message_retention, archive_retention FROM pgmq.retention_settings;

-- five messages; two of them were sent three hours ago.  Messages and
-- archive rows are made old inside a transaction that also runs the step
-- (here and below), so the queue vacuum worker, which runs retention steps
-- on its own while the database has a retention setting, cannot remove
-- them first and change the counts.
BEGIN;
SELECT pgmq.send_batch('rt', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}', '{"n": 5}']::jsonb[]);
UPDATE pgmq.q_rt SET enqueued_at = now() - interval '3 hours' WHERE message->>'n' IN ('1', '3');

-- never delivered, even before a step removed them
SELECT message FROM pgmq.read('rt', 0, 10);
SELECT message FROM pgmq.read('rt', 0, 1);
SELECT message FROM pgmq.read('rt', 0, 10, '{"n": 3}');
SELECT message FROM pgmq.read_with_poll('rt', 0, 10, 1, 10);
SELECT message FROM pgmq.pop('rt', 1);
SELECT count(*) AS still_stored FROM pgmq.q_rt;

-- a step removes them (not archived) and counts them
SELECT pgmq.apply_retention('rt');
SELECT message FROM pgmq.q_rt ORDER BY msg_id;
SELECT count(*) FROM pgmq.a_rt;
SELECT queue_length, retention_expired FROM pgmq.metrics('rt');
SELECT queue_name, retention_expired FROM pgmq.metrics_all() WHERE queue_name = 'rt';
SELECT pgmq.apply_retention('rt');
COMMIT;

-- archive rows older than archive_retention go, younger ones stay
SELECT pgmq.archive('rt', ARRAY(SELECT msg_id FROM pgmq.q_rt));
BEGIN;
UPDATE pgmq.a_rt SET archived_at = now() - interval '3 days' WHERE message->>'n' = '4';
SELECT pgmq.apply_retention('rt');
COMMIT;
SELECT message FROM pgmq.a_rt ORDER BY msg_id;
SELECT retention_expired FROM pgmq.metrics('rt');   -- archive rows are not counted

-- only the message retention: the archive is kept
SELECT pgmq.set_retention('rt', '1 minute', NULL);
UPDATE pgmq.a_rt SET archived_at = now() - interval '300 days';
BEGIN;
SELECT pgmq.send('rt', '{"n": 6}');
UPDATE pgmq.q_rt SET enqueued_at = now() - interval '2 minutes';
SELECT count(*) FROM pgmq.read('rt', 30, 10);
SELECT pgmq.apply_retention('rt'), (SELECT count(*) FROM pgmq.a_rt) AS archive_kept;
COMMIT;

-- NULL, NULL: keep forever again, reads deliver old messages
SELECT pgmq.set_retention('rt', NULL, NULL);
SELECT count(*) FROM pgmq.retention_settings;
SELECT pgmq.send('rt', '{"n": 7}');
UPDATE pgmq.q_rt SET enqueued_at = now() - interval '30 days';
SELECT message FROM pgmq.read('rt', 30, 10);
SELECT pgmq.apply_retention('rt');

-- a step is bounded: at most 1000 expired messages each
SELECT pgmq.set_retention('rt', '1 minute', NULL);
BEGIN;
SELECT count(*) FROM pgmq.send_batch('rt', array_fill('{"bulk": 1}'::jsonb, ARRAY[2500]));
UPDATE pgmq.q_rt SET enqueued_at = now() - interval '1 hour';
SELECT pgmq.apply_retention('rt') AS step1, pgmq.apply_retention('rt') AS step2,
       pgmq.apply_retention('rt') AS step3, pgmq.apply_retention('rt') AS step4;
COMMIT;

-- bad input: clear errors, nothing changed
SELECT pg_temp.err($$SELECT pgmq.set_retention('rt', '59 seconds', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('rt', NULL, '14 days 1 second')$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('rt', '1 mon', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('rt', '-1 hour', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('rt', '178000000 years', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('no_such_queue', '1 hour', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('bad name', '1 hour', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention(NULL, '1 hour', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.apply_retention('no_such_queue')$$);
SELECT pg_temp.err($$SELECT pgmq.apply_retention(NULL)$$);
SELECT message_retention, archive_retention FROM pgmq.retention_settings;
SELECT pgmq.set_retention('rt', '14 days', '1 minute');
SELECT message_retention, archive_retention FROM pgmq.retention_settings;

-- a queue without a retention: apply_retention removes nothing
SELECT pgmq.create('rt_none');
SELECT pgmq.send('rt_none', '{}');
UPDATE pgmq.q_rt_none SET enqueued_at = now() - interval '300 days';
SELECT pgmq.apply_retention('rt_none'), (SELECT count(*) FROM pgmq.read('rt_none', 30, 1));
SELECT retention_expired FROM pgmq.metrics('rt_none');

-- a queue that also has a dead-letter policy: its reads skip expired
-- messages too, and an expired poison message is not moved either (the
-- retention step removes it); a live poison message is still moved
SELECT pgmq.create('rt_dl'), pgmq.create('rt_dlq');
SELECT pgmq.set_dead_letter_queue('rt_dl', 'rt_dlq', 2);
SELECT pgmq.set_retention('rt_dl', '1 hour', NULL);
BEGIN;
SELECT pgmq.send_batch('rt_dl', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}', '{"n": 5}']::jsonb[]);
UPDATE pgmq.q_rt_dl SET enqueued_at = now() - interval '3 hours' WHERE message->>'n' IN ('1', '3');
UPDATE pgmq.q_rt_dl SET read_ct = 5 WHERE message->>'n' IN ('3', '4');
SELECT message FROM pgmq.read('rt_dl', 0, 1);
SELECT message FROM pgmq.read('rt_dl', 0, 10, '{"n": 1}');
SELECT message FROM pgmq.read_with_poll('rt_dl', 0, 10, 1, 10);
SELECT message FROM pgmq.q_rt_dlq;
SELECT pgmq.apply_retention('rt_dl');
COMMIT;
SELECT message FROM pgmq.q_rt_dl ORDER BY msg_id;
SELECT pgmq.drop_queue('rt_dl'), pgmq.drop_queue('rt_dlq');

-- dropping the queue drops its settings and counts
SELECT pgmq.drop_queue('rt'), pgmq.drop_queue('rt_none');
SELECT (SELECT count(*) FROM pgmq.retention_settings), (SELECT count(*) FROM pgmq.retention_counts);
