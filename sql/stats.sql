-- stats: the pgmq.stats view (pgmq preloaded, as test/harness.sh runs the
-- server): counts after known operations, transactional counting (rollback,
-- savepoints), drop, purge, dead-lettering, pgmq.track_stats, stats_reset
-- and bad input.  Without preloading: test/t/stats_no_preload.pl.
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

-- the counters of this test's queues, without the reset time
CREATE VIEW pg_temp.st AS
SELECT queue_name, sends, messages_sent, reads, messages_delivered, redeliveries,
       empty_reads, deletes, archives, pops, dead_lettered, poll_wakeups,
       queue_length_estimate AS len
FROM pgmq.stats WHERE queue_name LIKE 'st\_%' ORDER BY queue_name;

SELECT pgmq.create('st_a');
SELECT pgmq.create('st_b');
SELECT pgmq.stats_reset();
SELECT * FROM pg_temp.st;

-- 2 send calls, 4 messages
SELECT count(*) FROM pgmq.send('st_a', '{"n": 1}');
SELECT count(*) FROM pgmq.send_batch('st_a', ARRAY['{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[]);
SELECT * FROM pg_temp.st;

-- reads: 2 delivered, then 4 of which 2 are redeliveries, then an empty read
SELECT msg_id, read_ct FROM pgmq.read('st_a', 0, 2);
SELECT msg_id, read_ct FROM pgmq.read('st_a', 30, 10);
SELECT count(*) FROM pgmq.read('st_a', 30, 10);
SELECT * FROM pg_temp.st;

-- read_with_poll and the grouped reads are reads too (one call each)
SELECT count(*) FROM pgmq.send_batch('st_a', ARRAY['{"n": 5}', '{"n": 6}']::jsonb[]);
SELECT count(*) FROM pgmq.read_with_poll('st_a', 30, 1, 0, 100);
SELECT count(*) FROM pgmq.read_grouped('st_a', 30, 1);
SELECT count(*) FROM pgmq.read_grouped_rr('st_a', 30, 1);
SELECT reads, messages_delivered, redeliveries, empty_reads FROM pg_temp.st WHERE queue_name = 'st_a';

-- acknowledgements count messages, not calls; a missing id counts nothing
SELECT pgmq.delete('st_a', 1);
SELECT pgmq.delete('st_a', 1);
SELECT * FROM pgmq.archive('st_a', ARRAY[2, 3, 999]);
SELECT * FROM pg_temp.st;

-- pop counts the messages popped
SELECT count(*) FROM pgmq.send_batch('st_b', ARRAY['{}', '{}', '{}']::jsonb[]);
SELECT count(*) FROM pgmq.pop('st_b', 2);
SELECT count(*) FROM pgmq.pop('st_b');
SELECT count(*) FROM pgmq.pop('st_b');
SELECT queue_name, sends, messages_sent, pops, len FROM pg_temp.st WHERE queue_name = 'st_b';

-- rolled-back work is not counted, neither whole transactions nor savepoints
BEGIN;
SELECT count(*) FROM pgmq.send('st_b', '{}');
ROLLBACK;
BEGIN;
SELECT count(*) FROM pgmq.send('st_b', '{}');
SAVEPOINT s1;
SELECT count(*) FROM pgmq.send_batch('st_b', ARRAY['{}', '{}']::jsonb[]);
SAVEPOINT s2;
SELECT count(*) FROM pgmq.send('st_b', '{}');
RELEASE SAVEPOINT s2;
ROLLBACK TO SAVEPOINT s1;
SAVEPOINT s3;
SELECT count(*) FROM pgmq.send('st_b', '{}');
RELEASE SAVEPOINT s3;
-- nothing is visible before commit
SELECT sends, messages_sent FROM pg_temp.st WHERE queue_name = 'st_b';
COMMIT;
SELECT sends, messages_sent, len FROM pg_temp.st WHERE queue_name = 'st_b';
-- an error inside a PL/pgSQL exception block rolls back its counts too
DO $$
BEGIN
    PERFORM pgmq.send('st_b', '{}');
    RAISE EXCEPTION 'fail';
EXCEPTION WHEN OTHERS THEN
    NULL;
END $$;
SELECT sends, messages_sent, len FROM pg_temp.st WHERE queue_name = 'st_b';

-- the length estimate follows purge
SELECT pgmq.purge_queue('st_b');
SELECT len FROM pg_temp.st WHERE queue_name = 'st_b';

-- dead-lettering: counted on the source, and as messages sent to the queue
SELECT pgmq.create('st_dlq');
SELECT pgmq.set_dead_letter_queue('st_a', 'st_dlq', 2);
SELECT pgmq.purge_queue('st_a');
SELECT count(*) FROM pgmq.send('st_a', '{"poison": true}');
SELECT count(*) FROM pgmq.read('st_a', 0, 1);
SELECT count(*) FROM pgmq.read('st_a', 0, 1);
SELECT count(*) FROM pgmq.read('st_a', 0, 1);
SELECT * FROM pg_temp.st;
SELECT pgmq.clear_dead_letter_queue('st_a');
SELECT pgmq.redrive('st_dlq', 'st_b');
SELECT queue_name, messages_sent, len FROM pg_temp.st;

-- pgmq.track_stats off: nothing counted
SET pgmq.track_stats = off;
SELECT count(*) FROM pgmq.send('st_b', '{}');
RESET pgmq.track_stats;
SELECT sends, len FROM pg_temp.st WHERE queue_name = 'st_b';

-- reset of one queue: its counters are zero (and it leaves the view); the
-- length estimate is a gauge and survives; another queue is untouched
SELECT stats_reset AS before_reset FROM pgmq.stats WHERE queue_name = 'st_b' \gset
SELECT pgmq.stats_reset('st_b');
SELECT * FROM pg_temp.st;
SELECT count(*) FROM pgmq.send('st_b', '{}');
SELECT queue_name, sends, messages_sent, queue_length_estimate AS len,
       stats_reset > :'before_reset'::timestamptz AS reset_later
FROM pgmq.stats WHERE queue_name = 'st_b';
-- names are keyed as the functions resolve them (case-insensitively)
SELECT pgmq.stats_reset('ST_B');
SELECT * FROM pg_temp.st WHERE queue_name = 'st_b';

-- reset of a valid name without statistics: nothing to do, no error
SELECT pgmq.stats_reset('st_never_used');

-- drop_queue forgets the queue; a new queue of that name starts from zero
SELECT pgmq.drop_queue('st_b');
SELECT * FROM pg_temp.st WHERE queue_name = 'st_b';
SELECT pgmq.create('st_b');
SELECT count(*) FROM pgmq.send('st_b', '{}');
SELECT queue_name, sends, len FROM pg_temp.st WHERE queue_name = 'st_b';
-- a drop that rolls back forgets nothing
BEGIN;
SELECT pgmq.drop_queue('st_b');
ROLLBACK;
SELECT queue_name, sends, len FROM pg_temp.st WHERE queue_name = 'st_b';

-- reset of everything (NULL is the same as no argument)
SELECT pgmq.stats_reset(NULL);
SELECT * FROM pg_temp.st;

-- capacity and the untracked counter
SELECT max_tracked_queues > 0 AS has_capacity, tracked_queues > 0 AS in_use,
       untracked_events >= 0 AS counted FROM pgmq.stats_info();

-- bad input: errors with SQLSTATEs, nothing reset
SELECT count(*) FROM pgmq.send('st_a', '{}');
SELECT pg_temp.err($$SELECT pgmq.stats_reset('')$$);
SELECT pg_temp.err($$SELECT pgmq.stats_reset('bad name; drop table x')$$);
SELECT pg_temp.err($$SELECT pgmq.stats_reset(repeat('x', 200))$$);
SELECT pg_temp.err($$SELECT pgmq.stats_reset('st_a''); SELECT 1 --')$$);
SELECT queue_name, sends FROM pg_temp.st;

-- monitoring roles read, others do not; only superusers reset
CREATE ROLE st_monitor IN ROLE pg_monitor;
CREATE ROLE st_nobody;
SET ROLE st_monitor;
SELECT queue_name, sends FROM pgmq.stats WHERE queue_name LIKE 'st\_%' ORDER BY 1;
SELECT pg_temp.err($$SELECT pgmq.stats_reset()$$);
RESET ROLE;
SET ROLE st_nobody;
SELECT pg_temp.err($$SELECT * FROM pgmq.stats$$);
SELECT pg_temp.err($$SELECT * FROM pgmq.stats()$$);
RESET ROLE;
DROP ROLE st_monitor;
DROP ROLE st_nobody;

SELECT pgmq.drop_queue('st_a');
SELECT pgmq.drop_queue('st_b');
SELECT pgmq.drop_queue('st_dlq');
SELECT * FROM pg_temp.st;
