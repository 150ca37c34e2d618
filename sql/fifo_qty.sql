-- Grouped reads accept any positive qty, as read does: a batch is as large
-- as the messages it finds, never an allocation of qty slots up front.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
SELECT pgmq.create('fq');
-- empty queue
SELECT count(*) FROM pgmq.read('fq', 30, 2147483647);
SELECT count(*) FROM pgmq.read_grouped('fq', 30, 2147483647);
SELECT count(*) FROM pgmq.read_grouped('fq', 30, 200000000);
SELECT count(*) FROM pgmq.read_grouped_rr('fq', 30, 2147483647);
SELECT count(*) FROM pgmq.read_grouped_with_poll('fq', 30, 2147483647, 0, 10);
SELECT count(*) FROM pgmq.read_grouped_rr_with_poll('fq', 30, 2147483647, 0, 10);
-- 100 messages in two groups: all of them, in group order
SELECT count(*) FROM pgmq.send_batch('fq',
  (SELECT array_agg(jsonb_build_object('n', i) ORDER BY i) FROM generate_series(1, 100) i),
  (SELECT array_agg(jsonb_build_object('x-pgmq-group', 'g' || (i % 2)) ORDER BY i) FROM generate_series(1, 100) i));
SELECT count(*), min((message->>'n')::int), max((message->>'n')::int)
  FROM pgmq.read_grouped('fq', 0, 2147483647);
SELECT string_agg(message->>'n', ',') FILTER (WHERE rn <= 6)
  FROM (SELECT message, row_number() OVER () AS rn
          FROM pgmq.read_grouped_rr('fq', 0, 2147483647)) r;
SELECT count(*) FROM pgmq.read_grouped_rr_with_poll('fq', 30, 2147483647, 1, 10);
-- still refused: 0 and negative qty
SELECT count(*) FROM pgmq.read_grouped('fq', 30, 0);
SELECT count(*) FROM pgmq.read_grouped_rr('fq', 30, -1);
SELECT pgmq.drop_queue('fq');
