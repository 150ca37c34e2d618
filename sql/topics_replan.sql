-- The kept plan that reads topic bindings (plan_cache.c's pgmq_global_plan)
-- follows the table when the extension is dropped and created again in the
-- same session, and when the table changes.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
SELECT pgmq.create('tr_a');
SELECT pgmq.bind_topic('tr.*', 'tr_a');
SELECT pgmq.send_topic('tr.x', '{"n": 1}');
ALTER TABLE pgmq.topic_bindings ADD COLUMN tr_extra int;
SELECT pgmq.send_topic('tr.x', '{"n": 2}');
ALTER TABLE pgmq.topic_bindings DROP COLUMN tr_extra;
SELECT pgmq.send_topic('tr.x', '{"n": 3}');
SELECT message->>'n' FROM pgmq.read('tr_a', 30, 10) ORDER BY msg_id;
SET client_min_messages = warning;
DROP EXTENSION pgmq CASCADE;
CREATE EXTENSION pgmq;
RESET client_min_messages;
SELECT pgmq.create('tr_b');
SELECT pgmq.send_topic('tr.x', '{"n": 4}');
SELECT pgmq.bind_topic('tr.#', 'tr_b');
SELECT pgmq.send_topic('tr.x.y', '{"n": 5}');
SELECT message->>'n' FROM pgmq.read('tr_b', 30, 10) ORDER BY msg_id;
SELECT pgmq.drop_queue('tr_b');
