-- roles: the privilege model (docs/security.md).  Functions are SECURITY
-- INVOKER, so what a role may do to a queue is what its privileges on the
-- queue's tables allow:
--   producer  INSERT, SELECT (msg_id) on q_<name>
--   consumer  SELECT, UPDATE, DELETE on q_<name>; INSERT, SELECT (msg_id) on a_<name>
--   monitor   member of pg_monitor (SELECT on every queue table and sequence)
--   (metrics also needs SELECT on the queue's sequence q_<name>_msg_id_seq)
--   nobody    no grant at all
-- Only the owner of a queue's tables (the extension owner) may drop it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

CREATE ROLE regress_pgmq_nobody;
CREATE ROLE regress_pgmq_producer;
CREATE ROLE regress_pgmq_consumer;
CREATE ROLE regress_pgmq_monitor IN ROLE pg_monitor;

SELECT pgmq.create('sec');
SELECT count(*) FROM pgmq.send_batch('sec', ARRAY(SELECT jsonb_build_object('n', i) FROM generate_series(1, 20) i));
GRANT INSERT, SELECT (msg_id) ON pgmq.q_sec TO regress_pgmq_producer;
GRANT SELECT, UPDATE, DELETE ON pgmq.q_sec TO regress_pgmq_consumer;
GRANT INSERT, SELECT (msg_id) ON pgmq.a_sec TO regress_pgmq_consumer;

-- try(sql): 'ok' or the SQLSTATE; every effect is rolled back.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RAISE EXCEPTION 'rollback' USING ERRCODE = 'U0001';
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE = 'U0001' THEN
        RETURN 'ok';
    END IF;
    RETURN SQLSTATE;
END $$;

CREATE TEMP TABLE ops (n int, op text, sql text);
INSERT INTO ops VALUES
    (1, 'send', $$SELECT pgmq.send('sec', '{"r": 1}')$$),
    (2, 'send_batch', $$SELECT pgmq.send_batch('sec', ARRAY['{"r": 1}']::jsonb[])$$),
    (3, 'read', $$SELECT pgmq.read('sec', 0, 1)$$),
    (4, 'read_with_poll', $$SELECT pgmq.read_with_poll('sec', 0, 1, 0)$$),
    (5, 'pop', $$SELECT pgmq.pop('sec')$$),
    (6, 'set_vt', $$SELECT pgmq.set_vt('sec', 3, 0)$$),
    (7, 'delete', $$SELECT pgmq.delete('sec', 4::bigint)$$),
    (8, 'archive', $$SELECT pgmq.archive('sec', 5::bigint)$$),
    (9, 'purge_queue', $$SELECT pgmq.purge_queue('sec')$$),
    (10, 'metrics', $$SELECT pgmq.metrics('sec')$$),
    (11, 'metrics_all', $$SELECT pgmq.metrics_all()$$),
    (12, 'list_queues', $$SELECT pgmq.list_queues()$$),
    (13, 'create (new queue)', $$SELECT pgmq.create('sec_new')$$),
    (14, 'create (existing)', $$SELECT pgmq.create('sec')$$),
    (15, 'drop_queue', $$SELECT pgmq.drop_queue('sec')$$),
    (16, 'detach_archive', $$SELECT pgmq.detach_archive('sec')$$),
    (17, 'validate_queue_name', $$SELECT pgmq.validate_queue_name('sec')$$),
    (18, 'acquire_queue_lock', $$SELECT pgmq.acquire_queue_lock('sec')$$),
    (19, 'SELECT message FROM q_', $$SELECT message FROM pgmq.q_sec$$),
    (20, 'SELECT message FROM a_', $$SELECT message FROM pgmq.a_sec$$),
    (21, 'UPDATE q_ directly', $$UPDATE pgmq.q_sec SET vt = now()$$),
    (22, 'INSERT into meta', $$INSERT INTO pgmq.meta VALUES ('fake', false, false)$$);
GRANT SELECT ON ops TO PUBLIC;
CREATE TEMP TABLE outcome (role text, n int, res text);
GRANT INSERT ON outcome TO PUBLIC;

SET client_min_messages = error;   -- no WARNING from detach_archive
SET ROLE regress_pgmq_nobody;
INSERT INTO outcome SELECT 'nobody', n, pg_temp.try(sql) FROM ops;
RESET ROLE;
SET ROLE regress_pgmq_producer;
INSERT INTO outcome SELECT 'producer', n, pg_temp.try(sql) FROM ops;
RESET ROLE;
SET ROLE regress_pgmq_consumer;
INSERT INTO outcome SELECT 'consumer', n, pg_temp.try(sql) FROM ops;
RESET ROLE;
SET ROLE regress_pgmq_monitor;
INSERT INTO outcome SELECT 'monitor', n, pg_temp.try(sql) FROM ops;
RESET ROLE;
INSERT INTO outcome SELECT 'owner', n, pg_temp.try(sql) FROM ops;
RESET client_min_messages;

-- 'ok' = allowed; 42501 = insufficient_privilege.
SELECT o.op,
       max(res) FILTER (WHERE role = 'nobody') AS nobody,
       max(res) FILTER (WHERE role = 'producer') AS producer,
       max(res) FILTER (WHERE role = 'consumer') AS consumer,
       max(res) FILTER (WHERE role = 'monitor') AS monitor,
       max(res) FILTER (WHERE role = 'owner') AS owner
  FROM ops o JOIN outcome r USING (n)
 GROUP BY o.n, o.op ORDER BY o.n;

-- The messages a refused caller sees.
SET ROLE regress_pgmq_nobody;
SELECT pgmq.send('sec', '{}');
SELECT pgmq.read('sec', 30, 1);
SELECT pgmq.create('sec_new');
RESET ROLE;
SET ROLE regress_pgmq_producer;
SELECT pgmq.read('sec', 30, 1);
SELECT msg_id, message FROM pgmq.q_sec LIMIT 1;
RESET ROLE;
SET ROLE regress_pgmq_consumer;
SELECT pgmq.drop_queue('sec');
SELECT pgmq.send('sec', '{}');
RESET ROLE;

-- What the producer and consumer really did, without rollback: the producer
-- sends, the consumer reads, archives and deletes what was sent.
SET ROLE regress_pgmq_producer;
SELECT pgmq.send('sec', '{"from": "producer"}') AS sent_id \gset
RESET ROLE;
SET ROLE regress_pgmq_consumer;
SELECT message FROM pgmq.read('sec', 30, 25) WHERE msg_id = :sent_id;
SELECT pgmq.archive('sec', :sent_id::bigint);
SELECT pgmq.delete('sec', 1::bigint);
RESET ROLE;
SELECT message FROM pgmq.a_sec;
SELECT count(*) AS left_in_queue FROM pgmq.q_sec;

-- Nothing refused left a trace: no new queue, the queue still there.
SELECT string_agg(queue_name, ',' ORDER BY queue_name) AS queues FROM pgmq.meta;

-- No SECURITY DEFINER function leaves search_path to the caller.
SELECT count(*) AS security_definer_without_search_path
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmq'
 WHERE p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

SELECT pgmq.drop_queue('sec');
DROP ROLE regress_pgmq_nobody, regress_pgmq_producer, regress_pgmq_consumer, regress_pgmq_monitor;
