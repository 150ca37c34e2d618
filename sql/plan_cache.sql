-- plan_cache: kept plans follow the queue table through drop and re-create,
-- table changes and case variants of the name, within one session.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

SELECT pgmq.create('pc');
SELECT pgmq.send('pc', '{"gen": 1}');
SELECT msg_id, message FROM pgmq.read('pc', 0, 1);

-- drop and re-create: same name, new table, plans rebuilt
SELECT pgmq.drop_queue('pc');
SELECT pgmq.read('pc', 0, 1);
SELECT pgmq.create('pc');
SELECT pgmq.send('pc', '{"gen": 2}');
SELECT msg_id, message FROM pgmq.read('pc', 0, 1);
SELECT msg_id, message FROM pgmq.pop('pc');
SELECT * FROM pgmq.send_batch('pc', ARRAY['{"gen": 2}', '{"gen": 2}']::jsonb[]);
SELECT pgmq.archive('pc', 2::bigint), pgmq.delete('pc', 3::bigint);

-- re-create as unlogged inside one transaction, used at once
BEGIN;
SELECT pgmq.drop_queue('pc');
SELECT pgmq.create_unlogged('pc');
SELECT pgmq.send('pc', '{"gen": 3}');
SELECT msg_id, message FROM pgmq.read('pc', 0, 1);
COMMIT;
SELECT relpersistence FROM pg_class WHERE oid = 'pgmq.q_pc'::regclass;

-- the table changes under a kept plan: a new column and a dropped index
ALTER TABLE pgmq.q_pc ADD COLUMN extra int DEFAULT 7;
SELECT pgmq.send('pc', '{"gen": 4}');
SELECT msg_id, message FROM pgmq.read('pc', 30, 5);
ALTER TABLE pgmq.q_pc DROP COLUMN extra;
SELECT msg_id, message FROM pgmq.set_vt('pc', 2, 0);
SELECT msg_id, message FROM pgmq.read('pc', 30, 5);

-- a rolled-back drop leaves the queue usable
BEGIN;
SELECT pgmq.drop_queue('pc');
ROLLBACK;
SELECT pgmq.send('pc', '{"gen": 5}');
SELECT count(*) FROM pgmq.q_pc;

-- names are case-insensitive: one queue, one meta row
SELECT pgmq.create('CaseQ');
SELECT pgmq.create('caseq');
SELECT pgmq.create('CASEQ');
SELECT queue_name FROM pgmq.meta WHERE lower(queue_name) = 'caseq';
SELECT pgmq.send('CaseQ', '{"c": 1}');
SELECT msg_id, message FROM pgmq.read('CASEQ', 0, 1);
SELECT queue_name, queue_length FROM pgmq.metrics('cAsEq');
SELECT pgmq.drop_queue('CASEQ');
SELECT count(*) FROM pgmq.meta WHERE lower(queue_name) = 'caseq';

-- names that need quoting work end to end
SELECT pgmq.create('dash-name--x');
SELECT pgmq.send('dash-name--x', '{"d": 1}');
SELECT msg_id, message FROM pgmq.pop('dash-name--x');
SELECT pgmq.drop_queue('dash-name--x');
SELECT pgmq.drop_queue('pc');
