-- upgrade: install version 1.0, use it with the current library, then
-- ALTER EXTENSION pgmq UPDATE to 1.1; queues made at 1.0 keep their messages
-- and get the 1.1 features (dead-letter queues, the metrics column).
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pgmq;
CREATE EXTENSION pgmq VERSION '1.0';
RESET client_min_messages;
\set VERBOSITY terse
SELECT extversion FROM pg_extension WHERE extname = 'pgmq';

-- at 1.0 the library serves the 1.0 API: 7 metrics columns, plain reads
SELECT pgmq.create('upg'), pgmq.create('upg_dlq');
SELECT pgmq.send('upg', '{"n": 1}');
UPDATE pgmq.q_upg SET read_ct = 5;
SELECT msg_id, read_ct FROM pgmq.read('upg', 0, 1);
SELECT msg_id, read_ct FROM pgmq.read_grouped('upg', 0, 1);
SELECT count(*) AS columns FROM json_object_keys(row_to_json(pgmq.metrics('upg')));
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics_all() WHERE queue_name = 'upg';
SELECT to_regproc('pgmq.set_dead_letter_queue') IS NULL AS no_dlq_functions,
       to_regclass('pgmq.dead_letter_policy') IS NULL AS no_policy_table;

ALTER EXTENSION pgmq UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'pgmq';

-- the queue made at 1.0 is intact; metrics has its 8th column
SELECT msg_id, read_ct, message FROM pgmq.q_upg;
SELECT count(*) AS columns FROM json_object_keys(row_to_json(pgmq.metrics('upg')));
SELECT queue_name, queue_length, dead_lettered FROM pgmq.metrics_all() WHERE queue_name = 'upg';
-- and takes a dead-letter policy, seen at once by this session's cached queue
SELECT pgmq.set_dead_letter_queue('upg', 'upg_dlq', 5);
SELECT count(*) AS delivered FROM pgmq.read('upg', 0, 1);
SELECT message, headers->'x-pgmq-dead-letter'->>'read_ct' AS read_ct FROM pgmq.q_upg_dlq;
SELECT queue_name, dead_lettered FROM pgmq.metrics('upg');
SELECT pgmq.redrive('upg_dlq');
SELECT msg_id, read_ct, message FROM pgmq.q_upg;

-- the objects 1.1 added belong to the extension
SELECT pg_describe_object(classid, objid, objsubid) AS member
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pgmq')
   AND classid <> 'pg_type'::regclass  -- 18 also lists the tables' row types
   AND (pg_describe_object(classid, objid, objsubid) LIKE '%dead_letter%'
        OR pg_describe_object(classid, objid, objsubid) LIKE '%redrive%')
 ORDER BY 1;

SELECT pgmq.drop_queue('upg'), pgmq.drop_queue('upg_dlq');
