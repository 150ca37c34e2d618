-- retention_grouped: a queue with a message retention (issue 16) never
-- delivers an expired message through read_grouped, read_grouped_with_poll,
-- read_grouped_rr, read_grouped_rr_with_poll, read_grouped_head(_with_poll),
-- read_multi and read_multi_with_poll.  In FIFO groups an expired message is
-- as if already removed: never delivered, never holds back its group, and
-- the group's order among its other messages is kept.  Each scenario runs
-- with and without the fifo index.
--
-- Messages are made old by an UPDATE of enqueued_at in the same transaction
-- as the read, so the queue vacuum worker (which runs retention steps when
-- pgmq is preloaded) cannot remove them first: the reads must skip them
-- themselves.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

-- nine messages: msg i (1-based) in group groups[i]; those listed in old
-- were sent three hours ago (older than the one hour retention)
CREATE FUNCTION pg_temp.fill(q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    groups text[] := ARRAY['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'd'];
    old int[] := ARRAY[1, 3, 5, 6];
BEGIN
    PERFORM pgmq.purge_queue(q);
    PERFORM pgmq.send(q, jsonb_build_object('i', i), jsonb_build_object('x-pgmq-group', groups[i]))
       FROM generate_series(1, 9) i;
    EXECUTE format('UPDATE pgmq.%I SET enqueued_at = now() - interval ''3 hours'''
                   ' WHERE (message->>''i'')::int = ANY ($1)', 'q_' || q) USING old;
END $$;

-- a batch as text, in the order returned: i:group (i as sent, 1..9)
CREATE FUNCTION pg_temp.got(q text, fn text, qty int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r pgmq.message_record;
    out text[] := '{}';
BEGIN
    FOR r IN EXECUTE format('SELECT * FROM pgmq.%s', fn) USING q, qty LOOP
        out := out || ((r.message->>'i') || ':' || (r.headers->>'x-pgmq-group'));
    END LOOP;
    RETURN array_to_string(out, ' ');
END $$;

SELECT pgmq.create('rg'), pgmq.create('rg_noidx');
SELECT pgmq.create_fifo_index('rg');
SELECT pgmq.set_retention(q, '1 hour', NULL) FROM unnest(ARRAY['rg', 'rg_noidx']) q;

-- groups: a = 1 (old), 4, 7; b = 2, 5 (old), 8; c = 3, 6 (both old); d = 9.
-- read_grouped: the group of the oldest live message first, its run of live
-- messages (the expired 5 neither delivered nor ending b's run), then the
-- next group; c has nothing to deliver
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
COMMIT;

-- group order is kept: while b's live 2 is in flight, 8 waits, though the
-- expired 5 between them does not count
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 1) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
COMMIT;

-- an expired head in flight (read before it expired, vt in the future)
-- does not hold back its group: a's 4 and 7 come
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
UPDATE pgmq.q_rg SET vt = now() + interval '1 hour', read_ct = 1 WHERE message->>'i' = '1';
UPDATE pgmq.q_rg_noidx SET vt = now() + interval '1 hour', read_ct = 1 WHERE message->>'i' = '1';
SELECT q, pg_temp.got(q, 'read_grouped_with_poll($1, 30, $2, 1, 10)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
COMMIT;

-- read_grouped_rr: round robin over the groups with a live visible message,
-- in the order of their oldest live message
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_rr($1, 30, $2)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
COMMIT;
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_rr_with_poll($1, 30, $2, 1, 10)', 4) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
-- nothing left to deliver: a's 7 waits for its 4 (in flight), b and d are
-- done, c is all expired
SELECT q, pg_temp.got(q, 'read_grouped_rr_with_poll($1, 30, $2, 0, 10)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
COMMIT;

-- read_grouped_head: the first live message of each group
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_head($1, 30, $2)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_head_with_poll($1, 30, $2, 0, 10)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
COMMIT;

-- a group whose messages are all expired gives nothing, and the read does
-- not wait for it: only c's two (expired) messages left
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
DELETE FROM pgmq.q_rg WHERE headers->>'x-pgmq-group' <> 'c';
DELETE FROM pgmq.q_rg_noidx WHERE headers->>'x-pgmq-group' <> 'c';
SELECT q, pg_temp.got(q, fn, 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q,
    unnest(ARRAY['read_grouped($1, 30, $2)', 'read_grouped_rr($1, 30, $2)', 'read_grouped_head($1, 30, $2)',
                 'read_grouped_with_poll($1, 30, $2, 0, 10)', 'read_grouped_rr_with_poll($1, 30, $2, 0, 10)']) fn;
SELECT (SELECT count(*) FROM pgmq.q_rg WHERE read_ct > 0) AS rg_read,
       (SELECT count(*) FROM pgmq.q_rg_noidx WHERE read_ct > 0) AS noidx_read;
COMMIT;

-- with a dead-letter policy too: an expired message read max_read_ct times
-- is neither delivered nor moved (a retention step removes it); a live one
-- is moved and no longer holds back its group, as before
SELECT pgmq.create('rg_dlq');
SELECT pgmq.set_dead_letter_queue(q, 'rg_dlq', 2) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
BEGIN;
SELECT pg_temp.fill(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
UPDATE pgmq.q_rg SET read_ct = 2 WHERE message->>'i' IN ('1', '2');
UPDATE pgmq.q_rg_noidx SET read_ct = 2 WHERE message->>'i' IN ('1', '2');
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT message->>'i' AS moved, count(*) FROM pgmq.q_rg_dlq GROUP BY 1 ORDER BY 1;
ROLLBACK;
-- read_multi the same: live 4, 7, 8, 9 delivered, live poison 2 moved
BEGIN;
SELECT pg_temp.fill('rg');
UPDATE pgmq.q_rg SET read_ct = 2 WHERE message->>'i' IN ('1', '2');
SELECT queue_name, message->>'i' AS i FROM pgmq.read_multi(ARRAY['rg'], 30, 10);
SELECT message->>'i' AS moved FROM pgmq.q_rg_dlq;
ROLLBACK;
SELECT pgmq.clear_dead_letter_queue(q) FROM unnest(ARRAY['rg', 'rg_noidx']) q;
SELECT pgmq.drop_queue('rg_dlq');

-- the same messages on a queue without a retention: every one delivered
SELECT pgmq.set_retention('rg', NULL, NULL);
BEGIN;
SELECT pg_temp.fill('rg');
SELECT pg_temp.got('rg', 'read_grouped($1, 30, $2)', 10);
COMMIT;
SELECT pgmq.drop_queue('rg'), pgmq.drop_queue('rg_noidx');

-- read_multi: the expired messages of a queue with a retention are skipped;
-- a queue without one delivers its old messages; order otherwise as before
SELECT pgmq.create('rm_ret'), pgmq.create('rm_plain');
SELECT pgmq.set_retention('rm_ret', '1 hour', NULL);
BEGIN;
SELECT count(*) FROM pgmq.send_batch('rm_ret', ARRAY['{"r": 1}', '{"r": 2}', '{"r": 3}', '{"r": 4}']::jsonb[]);
SELECT count(*) FROM pgmq.send_batch('rm_plain', ARRAY['{"p": 1}', '{"p": 2}']::jsonb[]);
UPDATE pgmq.q_rm_ret SET enqueued_at = now() - interval '3 hours' WHERE message->>'r' IN ('1', '3');
UPDATE pgmq.q_rm_plain SET enqueued_at = now() - interval '30 days' WHERE message->>'p' = '1';
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_ret', 'rm_plain'], 30, 10);
ROLLBACK;
BEGIN;
SELECT count(*) FROM pgmq.send_batch('rm_ret', ARRAY['{"r": 1}', '{"r": 2}', '{"r": 3}', '{"r": 4}']::jsonb[]);
SELECT count(*) FROM pgmq.send_batch('rm_plain', ARRAY['{"p": 1}', '{"p": 2}']::jsonb[]);
UPDATE pgmq.q_rm_ret SET enqueued_at = now() - interval '3 hours' WHERE message->>'r' IN ('1', '3');
-- qty 1: the oldest visible live message, not the expired one ahead of it
SELECT queue_name, message FROM pgmq.read_multi(ARRAY['rm_ret'], 30, 1);
SELECT queue_name, message FROM pgmq.read_multi_with_poll(ARRAY['rm_ret', 'rm_plain'], 30, 10, 1, 10);
-- only expired ones left: nothing
SELECT count(*) FROM pgmq.read_multi_with_poll(ARRAY['rm_ret'], 30, 10, 0, 10);
SELECT message, read_ct FROM pgmq.q_rm_ret ORDER BY msg_id;
COMMIT;
SELECT pgmq.drop_queue('rm_ret'), pgmq.drop_queue('rm_plain');
