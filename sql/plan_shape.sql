-- plan_shape: message operations keep using indexes when the statistics
-- their plans were made with are stale, and several messages come back in
-- read order (vt, then msg_id).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

SELECT pgmq.create('shape');
-- statistics of an almost empty table, and every plan made on it
SELECT count(*) FROM pgmq.send_batch('shape', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[]);
ANALYZE pgmq.q_shape;
SELECT msg_id FROM pgmq.read('shape', 0, 1);
SELECT msg_id FROM pgmq.read('shape', 0, 2);
SELECT msg_id FROM pgmq.read('shape', 0, 2, '{"n": 3}');
SELECT msg_id FROM pgmq.pop('shape');
SELECT msg_id FROM pgmq.pop('shape', 2);
SELECT pgmq.delete('shape', 1::bigint), pgmq.archive('shape', 1::bigint);
SELECT * FROM pgmq.delete('shape', ARRAY[1]::bigint[]);
SELECT * FROM pgmq.archive('shape', ARRAY[1]::bigint[]);
SELECT msg_id FROM pgmq.set_vt('shape', 1, 0);

-- the table grows behind the statistics' back (no ANALYZE, no new plans)
INSERT INTO pgmq.q_shape (vt, message)
SELECT clock_timestamp(), jsonb_build_object('n', g) FROM generate_series(4, 3000) g;

-- (the counters below also hold the scans CREATE INDEX made, not yet flushed)
SELECT seq_scan AS seq_before, idx_scan AS idx_before
  FROM pg_stat_xact_user_tables WHERE relid = 'pgmq.q_shape'::regclass \gset
BEGIN;
SELECT msg_id FROM pgmq.read('shape', 30, 1);
SELECT msg_id FROM pgmq.read('shape', 30, 3);
SELECT msg_id FROM pgmq.read('shape', 30, 2, '{"n": 10}');
SELECT msg_id FROM pgmq.pop('shape');
SELECT msg_id FROM pgmq.pop('shape', 2);
SELECT pgmq.delete('shape', 4::bigint), pgmq.archive('shape', 5::bigint);
SELECT * FROM pgmq.delete('shape', ARRAY[6, 7]::bigint[]);
SELECT * FROM pgmq.archive('shape', ARRAY[12]::bigint[]);
SELECT msg_id FROM pgmq.set_vt('shape', 14, 0);
SELECT count(*) FROM pgmq.send('shape', '{"n": 0}');
-- not one sequential scan of the queue table
SELECT seq_scan - :seq_before AS seq_scans, idx_scan - :idx_before > 0 AS used_indexes
  FROM pg_stat_xact_user_tables WHERE relid = 'pgmq.q_shape'::regclass;
COMMIT;

-- read order: by vt, then msg_id, also for several messages at once
SELECT pgmq.create('shape_order');
SELECT count(*) FROM pgmq.send_batch('shape_order',
    ARRAY['{"k": 1}', '{"k": 2}', '{"k": 1}', '{"k": 2}',
          '{"k": 1}', '{"k": 2}', '{"k": 1}', '{"k": 2}']::jsonb[]);
-- all eight share one vt; move 3 and 1 ahead of the others, 3 first
SELECT msg_id FROM pgmq.set_vt('shape_order', 3, clock_timestamp() - interval '10 seconds');
SELECT msg_id FROM pgmq.set_vt('shape_order', 1, clock_timestamp() - interval '5 seconds');
SELECT msg_id, message FROM pgmq.read('shape_order', 30, 4);
-- same for pop: 7 first, then 5, then the rest by msg_id
SELECT msg_id FROM pgmq.set_vt('shape_order', 7, clock_timestamp() - interval '10 seconds');
SELECT msg_id FROM pgmq.set_vt('shape_order', 5, clock_timestamp() - interval '5 seconds');
SELECT msg_id FROM pgmq.pop('shape_order', 3);
-- and for a conditional read: 4 first, then 8 (still at the first vt),
-- then 2 (its vt set to now just before)
SELECT msg_id FROM pgmq.set_vt('shape_order', ARRAY[1, 2, 3, 4]::bigint[], 0);
SELECT msg_id FROM pgmq.set_vt('shape_order', 4, clock_timestamp() - interval '10 seconds');
SELECT msg_id, message FROM pgmq.read('shape_order', 30, 5, '{"k": 2}');

SELECT pgmq.drop_queue('shape'), pgmq.drop_queue('shape_order');
