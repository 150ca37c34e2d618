-- fifo: FIFO message groups (read_grouped*, create_fifo_index*): ordering
-- promises, group keys, polling forms, errors.  Concurrency is in
-- test/specs/fifo_*.spec.
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

-- send n messages to queue q, message i in group groups[i % len + 1]
-- (a NULL group: no header at all)
CREATE FUNCTION pg_temp.fill(q text, n int, groups text[]) RETURNS void LANGUAGE sql AS $$
    SELECT pgmq.send(q, jsonb_build_object('i', i),
                     CASE WHEN groups[i % cardinality(groups) + 1] IS NULL THEN NULL
                          ELSE jsonb_build_object('x-pgmq-group', groups[i % cardinality(groups) + 1]) END)
      FROM generate_series(0, n - 1) i
$$;

-- a batch as text: msg_id:group, in the order returned
CREATE FUNCTION pg_temp.ids(q text, vt int, qty int, rr boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r pgmq.message_record;
    out text[] := '{}';
BEGIN
    FOR r IN EXECUTE format('SELECT * FROM pgmq.%s($1, $2, $3)',
                            CASE WHEN rr THEN 'read_grouped_rr' ELSE 'read_grouped' END)
             USING q, vt, qty LOOP
        out := out || (r.msg_id || ':' || coalesce(r.headers->>'x-pgmq-group', '-'));
    END LOOP;
    RETURN array_to_string(out, ' ');
END $$;

-- both queues hold the same messages; fq gets the fifo index, so every
-- scenario below runs with and without it and must give the same answers
SELECT pgmq.create('fq');
SELECT pgmq.create('fq_noidx');
SELECT pgmq.create_fifo_index('fq');
SELECT pgmq.create_fifo_index('FQ');          -- idempotent, any case
SELECT indexrelid::regclass, indisvalid FROM pg_index
 WHERE indrelid IN ('pgmq.q_fq'::regclass, 'pgmq.q_fq_noidx'::regclass)
   AND indexrelid::regclass::text LIKE '%fifo%';

-- read_grouped: oldest group first, several messages of one group together,
-- stops at the first message of a group that is not visible
SELECT pg_temp.fill(q, 9, ARRAY['a', 'b', 'c']) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 30, 2) FROM unnest(ARRAY['fq', 'fq_noidx']) q;   -- a holds 1,4
SELECT q, pg_temp.ids(q, 30, 4) FROM unnest(ARRAY['fq', 'fq_noidx']) q;   -- a in flight: all of b, then c
SELECT q, pg_temp.ids(q, 30, 4) FROM unnest(ARRAY['fq', 'fq_noidx']) q;   -- 7 (a) and 6, 9 (c) wait
-- an expired message is visible again: its group can be read again, in order
SELECT q, (SELECT count(*) FROM pgmq.set_vt(q, 3::bigint, 0)) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 30, 4) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
-- deleting the in-flight messages of a frees its group
SELECT q, pgmq.delete(q, ARRAY[1, 4]::bigint[]) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 30, 4) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT msg_id, read_ct FROM pgmq.q_fq ORDER BY msg_id;
SELECT q, pgmq.purge_queue(q) FROM unnest(ARRAY['fq', 'fq_noidx']) q;

-- read_grouped_rr: first of each eligible group (oldest group first), then second, ...
SELECT pg_temp.fill(q, 10, ARRAY['a', 'b', 'c', 'a']) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 30, 5, true) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 30, 5, true) FROM unnest(ARRAY['fq', 'fq_noidx']) q;  -- every group in flight
-- vt 0 leaves messages visible: the groups stay eligible, read_ct counts
SELECT q, (SELECT count(*) FROM pgmq.set_vt(q, ARRAY(SELECT generate_series(11, 20)::bigint), 0)) AS reset
  FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 0, 3, true) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pg_temp.ids(q, 0, 3, true) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT msg_id, read_ct FROM pgmq.q_fq WHERE read_ct > 1 ORDER BY msg_id;
-- qty larger than what is there: everything, in round robin order
SELECT q, pg_temp.ids(q, 30, 100, true) FROM unnest(ARRAY['fq', 'fq_noidx']) q;
SELECT q, pgmq.purge_queue(q) FROM unnest(ARRAY['fq', 'fq_noidx']) q;

-- group keys: no headers, headers without the key, a JSON null key and an
-- empty key are all the default group; the number 7 and the string "7" are one group
SELECT pgmq.send('fq', '{"k": "no headers"}');
SELECT pgmq.send('fq', '{"k": "other header"}', '{"h": 1}'::jsonb);
SELECT pgmq.send('fq', '{"k": "json null"}', '{"x-pgmq-group": null}'::jsonb);
SELECT pgmq.send('fq', '{"k": "empty"}', '{"x-pgmq-group": ""}'::jsonb);
SELECT pgmq.send('fq', '{"k": "number 7"}', '{"x-pgmq-group": 7}'::jsonb);
SELECT pgmq.send('fq', '{"k": "string 7"}', '{"x-pgmq-group": "7"}'::jsonb);
SELECT pgmq.send('fq', '{"k": "array headers"}', '[1, 2]'::jsonb);
SELECT msg_id, message->>'k' AS k FROM pgmq.read_grouped_rr('fq', 30, 10);
SELECT msg_id, message->>'k' AS k FROM pgmq.read_grouped('fq', 30, 10);
SELECT pgmq.purge_queue('fq');

-- a delayed first message holds back its group; other groups go on
SELECT pgmq.send('fq', '{"n": 1}', '{"x-pgmq-group": "late"}'::jsonb, 3600);
SELECT pgmq.send('fq', '{"n": 2}', '{"x-pgmq-group": "late"}'::jsonb);
SELECT pgmq.send('fq', '{"n": 3}', '{"x-pgmq-group": "now"}'::jsonb);
SELECT msg_id, message FROM pgmq.read_grouped('fq', 30, 10);
SELECT msg_id, message FROM pgmq.read_grouped_rr('fq', 30, 10);
-- once the first is visible, the group is read in order
SELECT msg_id FROM pgmq.set_vt('fq', (SELECT min(msg_id) FROM pgmq.q_fq), 0);
SELECT msg_id, message, read_ct FROM pgmq.read_grouped('fq', 30, 10);
SELECT pgmq.purge_queue('fq');

-- within one transaction: a second read does not take more of a group the
-- first read is holding; read fields are set as read() sets them
SELECT pg_temp.fill('fq', 4, ARRAY['x', 'y']);
BEGIN;
SELECT msg_id, read_ct, last_read_at = vt - interval '45 seconds' AS vt_is_now_plus_45,
       last_read_at IS NOT NULL AND last_read_at <= clock_timestamp() AS read_at_set
  FROM pgmq.read_grouped('fq', 45, 1);
SELECT msg_id FROM pgmq.read_grouped('fq', 45, 10);
SELECT msg_id FROM pgmq.read_grouped('fq', 45, 10);
ROLLBACK;
SELECT msg_id, read_ct FROM pgmq.q_fq ORDER BY msg_id;   -- rolled back

-- named arguments and the polling forms
SELECT msg_id FROM pgmq.read_grouped(queue_name => 'fq', vt => 30, qty => 1);
SELECT msg_id FROM pgmq.read_grouped_rr(queue_name => 'fq', vt => 30, qty => 1);
SELECT pgmq.send('fq', '{"w": 1}', '{"x-pgmq-group": "w"}'::jsonb);
SELECT msg_id FROM pgmq.read_grouped_with_poll('fq', 30, 1);     -- found at once
SELECT msg_id FROM pgmq.read_grouped_rr_with_poll(queue_name => 'fq', vt => 30, qty => 5,
                                                  max_poll_seconds => 0, poll_interval_ms => 10);
-- nothing eligible: the poll waits (at least max_poll_seconds) and returns nothing
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM pgmq.read_grouped_with_poll('fq', 30, 1, 1, 50);
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '1 second' AS waited;
SELECT count(*) FROM pgmq.read_grouped_rr_with_poll('fq', 30, 1, 0, 10);
-- a message that becomes visible while polling is found
SELECT pgmq.send('fq', '{"late": true}', '{"x-pgmq-group": "z"}'::jsonb,
                 clock_timestamp() + interval '300 milliseconds');
SELECT message FROM pgmq.read_grouped_with_poll('fq', 30, 1, 5, 50);
SELECT pgmq.purge_queue('fq');

-- mixed-case and quoted names work end to end
SELECT pgmq.create('Fifo-Q');
SELECT pgmq.create_fifo_index('FIFO-q');
SELECT pgmq.send('fifo-Q', '{"m": 1}', '{"x-pgmq-group": "g"}'::jsonb);
SELECT msg_id, message FROM pgmq.read_grouped('FIFO-Q', 30, 1);

-- create_fifo_indexes_all: every queue gets its index (fq_noidx had none),
-- and it is idempotent
SELECT pgmq.create_fifo_indexes_all();
SELECT pgmq.create_fifo_indexes_all();
SELECT m.queue_name,
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = ('pgmq.' || quote_ident('q_' || m.queue_name))::regclass
                  AND i.indexrelid::regclass::text LIKE '%fifo_idx%') AS has_fifo_index
  FROM pgmq.meta m WHERE lower(m.queue_name) IN ('fifo-q', 'fq', 'fq_noidx') ORDER BY 1;

-- errors: NULLs, bad numbers, unknown and invalid queues
SELECT pg_temp.err(sql) FROM unnest(ARRAY[
    $$SELECT pgmq.read_grouped(NULL, 30, 1)$$,
    $$SELECT pgmq.read_grouped('fq', NULL, 1)$$,
    $$SELECT pgmq.read_grouped('fq', 30, NULL)$$,
    $$SELECT pgmq.read_grouped('fq', -1, 1)$$,
    $$SELECT pgmq.read_grouped('fq', 30, 0)$$,
    $$SELECT pgmq.read_grouped('nope', 30, 1)$$,
    $$SELECT pgmq.read_grouped('bad name', 30, 1)$$,
    $$SELECT pgmq.read_grouped_rr(NULL, 30, 1)$$,
    $$SELECT pgmq.read_grouped_rr('fq', NULL, 1)$$,
    $$SELECT pgmq.read_grouped_rr('fq', 30, -5)$$,
    $$SELECT pgmq.read_grouped_rr('nope', 30, 1)$$,
    $$SELECT pgmq.read_grouped_with_poll('fq', 30, 1, NULL)$$,
    $$SELECT pgmq.read_grouped_with_poll('fq', 30, 1, -1)$$,
    $$SELECT pgmq.read_grouped_with_poll('fq', 30, 1, 1, NULL)$$,
    $$SELECT pgmq.read_grouped_with_poll('fq', 30, 1, 1, 0)$$,
    $$SELECT pgmq.read_grouped_with_poll('nope', 30, 1)$$,
    $$SELECT pgmq.read_grouped_rr_with_poll('fq', 30, 1, -1)$$,
    $$SELECT pgmq.read_grouped_rr_with_poll('fq', 30, 1, 1, -1)$$,
    $$SELECT pgmq.read_grouped_rr_with_poll(NULL, 30, 1)$$,
    $$SELECT pgmq.create_fifo_index(NULL)$$,
    $$SELECT pgmq.create_fifo_index('nope')$$,
    $$SELECT pgmq.create_fifo_index('a;b')$$]) sql;
-- a read-only transaction cannot read
BEGIN READ ONLY;
SELECT pg_temp.err($$SELECT pgmq.read_grouped('fq', 30, 1)$$);
ROLLBACK;

-- the signatures clients call
SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)
  FROM pg_proc p WHERE p.pronamespace = 'pgmq'::regnamespace
   AND (p.proname LIKE 'read_grouped%' OR p.proname LIKE 'create_fifo%')
 ORDER BY 1, 2;

SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['fq', 'fq_noidx', 'Fifo-Q']) q;
