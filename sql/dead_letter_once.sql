-- dead_letter_once: a read through a dead-letter policy delivers each
-- message at most once per call, and never moves a message it delivered
-- (issue 11), whatever poison it met on the way; and a TRUNCATE of the
-- policy table reaches the policies cached by every session.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

SELECT pgmq.create('once_q');
SELECT pgmq.create('once_dlq');

-- One poison message (read_ct at the limit), one good one, vt 0: the good
-- one comes back once, the poison one is moved.
SELECT pgmq.set_dead_letter_queue('once_q', 'once_dlq', 3);
SELECT pgmq.send('once_q', '{"poison": true}');
SELECT pgmq.send('once_q', '{"good": true}');
UPDATE pgmq.q_once_q SET read_ct = 3 WHERE msg_id = 1;
SELECT msg_id, read_ct, message FROM pgmq.read('once_q', 0, 5);
SELECT msg_id, read_ct FROM pgmq.q_once_q ORDER BY msg_id;
SELECT message, headers->'x-pgmq-dead-letter'->>'msg_id' AS from_msg FROM pgmq.q_once_dlq ORDER BY msg_id;
SELECT dead_lettered FROM pgmq.metrics('once_q');

-- The good message reaches max_read_ct with this very read: it is delivered
-- (read_ct 2) and stays in its queue; only the poison one moves.
SELECT pgmq.purge_queue('once_q');
SELECT pgmq.purge_queue('once_dlq');
SELECT pgmq.set_dead_letter_queue('once_q', 'once_dlq', 2);
SELECT pgmq.send('once_q', '{"poison": 2}');
SELECT pgmq.send('once_q', '{"good": 2}');
UPDATE pgmq.q_once_q SET read_ct = 2 WHERE message->>'poison' IS NOT NULL;
UPDATE pgmq.q_once_q SET read_ct = 1 WHERE message->>'good' IS NOT NULL;
SELECT read_ct, message FROM pgmq.read('once_q', 0, 5);
SELECT read_ct, message FROM pgmq.q_once_q ORDER BY msg_id;
SELECT message FROM pgmq.q_once_dlq ORDER BY msg_id;

-- Several poison messages in several rounds, several good ones, conditional
-- read: every good one exactly once.
SELECT pgmq.purge_queue('once_q');
SELECT pgmq.purge_queue('once_dlq');
SELECT count(*) FROM pgmq.send_batch('once_q',
    ARRAY(SELECT jsonb_build_object('i', i, 'poison', i % 2 = 0) FROM generate_series(1, 12) i));
UPDATE pgmq.q_once_q SET read_ct = 2 WHERE (message->>'poison')::boolean;
SELECT pg_catalog.count(*) AS delivered, pg_catalog.count(DISTINCT msg_id) AS distinct_ids,
       pg_catalog.string_agg(message->>'i', ',' ORDER BY msg_id) AS which
  FROM pgmq.read('once_q', 0, 10, '{"poison": false}');
SELECT pg_catalog.count(*) AS delivered, pg_catalog.count(DISTINCT msg_id) AS distinct_ids
  FROM pgmq.read('once_q', 0, 10);
SELECT pg_catalog.count(*) AS moved FROM pgmq.q_once_dlq;

-- TRUNCATE of the policy table: this session cached the policy with the
-- reads above; after TRUNCATE the poison message is delivered, not moved.
SELECT pgmq.purge_queue('once_q');
SELECT pgmq.purge_queue('once_dlq');
SELECT pgmq.send('once_q', '{"after": "truncate"}');
UPDATE pgmq.q_once_q SET read_ct = 5;
BEGIN;
SELECT count(*) FROM pgmq.read('once_q', 30, 1);   -- policy cached, message moved
ROLLBACK;
TRUNCATE pgmq.dead_letter_policy;
SELECT read_ct, message FROM pgmq.read('once_q', 30, 1);
SELECT pg_catalog.count(*) AS moved FROM pgmq.q_once_dlq;

SELECT pgmq.drop_queue('once_q');
SELECT pgmq.drop_queue('once_dlq');
