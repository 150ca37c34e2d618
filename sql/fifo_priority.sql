-- fifo_priority: grouped reads of a prioritised queue (issue 16).  Inside a
-- group msg_id order wins over priority (a priority 9 message behind a
-- priority 0 head waits for it); across groups, the groups whose head
-- (next message) has a higher priority are served first, within one
-- priority in each function's own order.  read_grouped_rr's rounds and
-- read_grouped_head go over the groups in that order.  Every scenario runs
-- with and without the fifo index.  Concurrency: test/specs/fifo_priority.spec.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

-- msg i (1-based) in group groups[i] (NULL: no group header, the default
-- group) with priority prios[i] (NULL: no priority header, 0)
CREATE FUNCTION pg_temp.fill(q text, groups text[], prios int[]) RETURNS void LANGUAGE sql AS $$
    SELECT pgmq.purge_queue(q);
    SELECT pgmq.send(q, jsonb_build_object('i', i),
                     jsonb_strip_nulls(jsonb_build_object('x-pgmq-group', groups[i],
                                                          'x-pgmq-priority', prios[i])))
      FROM generate_series(1, cardinality(groups)) i;
$$;

-- a batch as text, in the order returned: i:group:priority
CREATE FUNCTION pg_temp.got(q text, fn text, qty int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r pgmq.message_record;
    out text[] := '{}';
BEGIN
    FOR r IN EXECUTE format('SELECT * FROM pgmq.%s', fn) USING q, qty LOOP
        out := out || ((r.message->>'i') || ':' || coalesce(r.headers->>'x-pgmq-group', '-')
                       || ':' || coalesce(r.headers->>'x-pgmq-priority', '0'));
    END LOOP;
    RETURN array_to_string(out, ' ');
END $$;

CREATE FUNCTION pg_temp.std(q text) RETURNS void LANGUAGE sql AS $$
    -- a: 1 (p0), 3 (p9, behind the p0 head); b: 2 (p5), 5 (p0); c: 4 (p9);
    -- d: 6 (p5); default group: 7 (p1)
    SELECT pg_temp.fill(q, ARRAY['a', 'b', 'a', 'c', 'b', 'd', NULL],
                        ARRAY[0, 5, 9, 9, 0, 5, 1]);
$$;

SELECT pgmq.create('fp'), pgmq.create('fp_noidx');
SELECT pgmq.create_fifo_index('fp');
SELECT pgmq.enable_priorities(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- read_grouped: c (head p9), then the p5 heads b and d oldest first (b's
-- run includes its p0), then the default group (p1), then a (head p0) with
-- its p9 behind the head
SELECT pg_temp.std(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- a high-priority message stuck behind a low-priority head waits for it
SELECT pg_temp.std(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 3) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 2) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 1) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
-- 1 is in flight: its group's 3 (p9) is not delivered
SELECT q, pg_temp.got(q, 'read_grouped_with_poll($1, 30, $2, 0, 10)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
-- deleting 1 makes 3 the head
DELETE FROM pgmq.q_fp WHERE message->>'i' = '1';
DELETE FROM pgmq.q_fp_noidx WHERE message->>'i' = '1';
SELECT q, pg_temp.got(q, 'read_grouped_with_poll($1, 30, $2, 1, 10)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- a new higher-priority head overtakes groups that were there before
SELECT pg_temp.fill(q, ARRAY['a', 'b', 'c'], ARRAY[0, 0, 0]) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT pgmq.send(q, '{"i": 4}'::jsonb, '{"x-pgmq-group": "z", "x-pgmq-priority": 3}'::jsonb) > 0 AS sent
  FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 2) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- read_grouped_rr: rounds over the groups in priority order of their heads
SELECT pg_temp.std(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_rr($1, 30, $2)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT pg_temp.std(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_rr_with_poll($1, 30, $2, 1, 10)', 3) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_rr($1, 30, $2)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- read_grouped_head: the heads, highest priority first
SELECT pg_temp.std(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_head($1, 30, $2)', 3) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped_head_with_poll($1, 30, $2, 0, 10)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- a head in flight holds its group whatever the priorities behind it; a
-- visible message of a lower priority in another group comes instead
SELECT pg_temp.fill(q, ARRAY['a', 'a', 'b'], ARRAY[5, 9, 1]) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 1) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- with a message retention too: an expired head is as if removed, so its
-- group ranks by its next (live) message: a's expired p9 head does not put
-- a's p0 before b's p5, and is not delivered
SELECT pgmq.set_retention(q, '1 hour', NULL) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
BEGIN;
SELECT pg_temp.fill(q, ARRAY['a', 'b', 'a'], ARRAY[9, 5, 0]) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
UPDATE pgmq.q_fp SET enqueued_at = now() - interval '3 hours' WHERE message->>'i' = '1';
UPDATE pgmq.q_fp_noidx SET enqueued_at = now() - interval '3 hours' WHERE message->>'i' = '1';
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
COMMIT;
SELECT pgmq.set_retention(q, NULL, NULL) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

-- disable_priorities: plain group order again (oldest head first)
SELECT pgmq.disable_priorities(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT pg_temp.std(q) FROM unnest(ARRAY['fp', 'fp_noidx']) q;
SELECT q, pg_temp.got(q, 'read_grouped($1, 30, $2)', 10) FROM unnest(ARRAY['fp', 'fp_noidx']) q;

SELECT pgmq.drop_queue('fp'), pgmq.drop_queue('fp_noidx');
