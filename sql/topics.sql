-- topics: routing key and pattern rules, bindings, the routing matrix
-- (including "*" and "#" edge cases), send_topic / send_batch_topic in every
-- shape, atomicity across queues, and every error.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

-- err(sql): run sql, return 'SQLSTATE: message' of the error it raises.
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- validate_routing_key: true for good keys, an error naming the rule otherwise
SELECT left(k, 20) AS k, length(k), pgmq.validate_routing_key(k)
  FROM unnest(ARRAY['a', 'orders', 'orders.eu.created', 'A-1_b.C-2', repeat('k', 255),
                    rtrim(repeat('k.', 128), '.')]) AS k;
SELECT k, pg_temp.err(format('SELECT pgmq.validate_routing_key(%L)', k))
  FROM unnest(ARRAY['', '.', '.a', 'a.', 'a..b', 'a b', 'a.*', 'a.#', 'café', 'a/b',
                    'a;b']) AS k;
SELECT regexp_replace(pg_temp.err(format('SELECT pgmq.validate_routing_key(%L)',
                                         repeat('k', 256))), 'k{100,}', '<256 x k>') AS too_long;
SELECT pg_temp.err('SELECT pgmq.validate_routing_key(NULL)');
SELECT pgmq.validate_routing_key(routing_key => 'named.argument');

-- validate_topic_pattern
SELECT left(p, 20) AS p, length(p), pgmq.validate_topic_pattern(p)
  FROM unnest(ARRAY['a', '*', '#', '*.*', '#.#', 'a.*.#', '#.b.*', 'a.#.b', 'a-b.c_d.*',
                    repeat('p', 255)]) AS p;
SELECT p, pg_temp.err(format('SELECT pgmq.validate_topic_pattern(%L)', p))
  FROM unnest(ARRAY['', '.#', '#.', 'a..*', '**', 'a.**.b', '##', 'a.##', '*#', '#*',
                    'a.*#', 'a*', '*a', 'a#', 'a.b*c', 'a?', 'a b']) AS p;
SELECT regexp_replace(pg_temp.err(format('SELECT pgmq.validate_topic_pattern(%L)',
                                         repeat('p', 256))), 'p{100,}', '<256 x p>') AS too_long;
SELECT pg_temp.err('SELECT pgmq.validate_topic_pattern(NULL)');
SELECT pgmq.validate_topic_pattern(pattern => 'named.*');

-- bind_topic: idempotent, lower-cases the queue name, checks both arguments
SELECT pgmq.create('tp_orders');
SELECT pgmq.create('TP_Audit');
SELECT pgmq.create('tp_eu');
SELECT pgmq.bind_topic('orders.#', 'tp_orders');
SELECT pgmq.bind_topic('orders.#', 'TP_ORDERS');       -- same binding again
SELECT pgmq.bind_topic('#', 'tp_audit');
SELECT pgmq.bind_topic('*.eu.*', 'tp_eu');
SELECT pgmq.bind_topic(pattern => 'orders.eu.#', queue_name => 'tp_eu');
SELECT pattern, queue_name, bound_at <= now() AS bound_ok, compiled_regex
  FROM pgmq.list_topic_bindings();
SELECT pattern, queue_name, compiled_regex FROM pgmq.list_topic_bindings('TP_EU');
SELECT count(*) FROM pgmq.list_topic_bindings(queue_name => 'tp_audit');
SELECT f, pg_temp.err(f) FROM unnest(ARRAY[
    'SELECT pgmq.bind_topic(NULL, ''tp_eu'')',
    'SELECT pgmq.bind_topic(''a.b'', NULL)',
    'SELECT pgmq.bind_topic(''a.**'', ''tp_eu'')',
    'SELECT pgmq.bind_topic(''a.b'', ''no_such_queue'')',
    'SELECT pgmq.bind_topic(''a.b'', ''bad name'')',
    'SELECT pgmq.unbind_topic(NULL, ''tp_eu'')',
    'SELECT pgmq.unbind_topic(''a.b'', NULL)',
    'SELECT pgmq.unbind_topic(''a.b'', ''no_such_queue'')',
    'SELECT pgmq.list_topic_bindings(NULL)',
    'SELECT pgmq.list_topic_bindings(''no_such_queue'')',
    'SELECT pgmq.test_routing(NULL)',
    'SELECT pgmq.test_routing(''a..b'')']) AS f;

-- test_routing: which bindings a key reaches, without sending anything
SELECT * FROM pgmq.test_routing('orders.eu.created');
SELECT * FROM pgmq.test_routing('orders');
SELECT * FROM pgmq.test_routing(routing_key => 'billing.us.paid');

-- The routing matrix.  One queue bound to every pattern; for each key, the
-- patterns it matches.  Then the C matcher (test_routing) is checked against
-- the stored regular expression for every (key, pattern) pair.
SELECT pgmq.create('tp_matrix');
SELECT count(pgmq.bind_topic(p, 'tp_matrix')) AS bound
  FROM unnest(ARRAY['a', 'a.b', '*', '*.*', '#', '#.#', 'a.*', 'a.#', '#.a', '*.a',
                    'a.#.b', 'a.*.b', '#.b.#', '*.#', '#.*', 'a.*.#', 'a-b.c_d']) AS p;
CREATE TEMP TABLE keys(k text);
INSERT INTO keys VALUES ('a'), ('b'), ('a.b'), ('b.a'), ('a.a'), ('a.x.b'), ('a.x.y.b'),
    ('a.b.c'), ('x.b.y'), ('ab'), ('A'), ('a-b.c_d'), ('a-b.c-d');
SELECT k, (SELECT string_agg(r.pattern, '  ' ORDER BY r.pattern COLLATE "C")
             FROM pgmq.test_routing(k) r WHERE r.queue_name = 'tp_matrix') AS matches
  FROM keys ORDER BY k COLLATE "C";
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE (k ~ b.compiled_regex) IS DISTINCT FROM
                              EXISTS (SELECT 1 FROM pgmq.test_routing(k) r
                                       WHERE r.pattern = b.pattern
                                         AND r.queue_name = 'tp_matrix')) AS disagreements
  FROM keys, pgmq.topic_bindings b WHERE b.queue_name = 'tp_matrix';
SELECT pgmq.drop_queue('tp_matrix');

-- send_topic to 0, 1 and many queues; the result is the number of queues
SELECT pgmq.send_topic('billing.us.paid', '{"n": 0}') AS to_audit_only;
SELECT pgmq.send_topic('nothing', '{"n": 1}');
SELECT pgmq.unbind_topic('#', 'tp_audit');
SELECT pgmq.unbind_topic('#', 'tp_audit') AS unbind_again;
SELECT pgmq.unbind_topic('not a pattern at all', 'tp_audit') AS unbind_invalid;
SELECT pgmq.send_topic('nothing.matches', '{"n": 2}') AS zero_queues;
SELECT pgmq.bind_topic('#', 'tp_audit');
SELECT pgmq.send_topic('orders.us.created', '{"n": 3}') AS two_queues;
SELECT pgmq.send_topic('orders.eu.created', '{"n": 4}') AS three_queues_once_each;
SELECT pgmq.send_topic('orders.eu.created', '{"n": 5}', 3600) AS delayed;
SELECT pgmq.send_topic('orders.eu.created', '{"n": 6}', '{"h": 6}', 0) AS with_headers;
SELECT pgmq.send_topic(routing_key => 'x.eu.y', msg => '{"n": 7}', headers => NULL, delay => 0);
SELECT 'tp_orders' AS q, msg_id, message, headers, vt > clock_timestamp() AS delayed
  FROM pgmq.q_tp_orders
UNION ALL
SELECT 'tp_audit', msg_id, message, headers, vt > clock_timestamp() FROM pgmq.q_tp_audit
UNION ALL
SELECT 'tp_eu', msg_id, message, headers, vt > clock_timestamp() FROM pgmq.q_tp_eu
ORDER BY 1, 2;

-- send_batch_topic: all six shapes; rows are (queue_name, msg_id) in queue
-- order, messages in input order
SELECT pgmq.purge_queue(q) FROM unnest(ARRAY['tp_orders', 'tp_audit', 'tp_eu']) q;
SELECT * FROM pgmq.send_batch_topic('orders.eu.b1', ARRAY['{"b": 1}', '{"b": 2}']::jsonb[]);
SELECT * FROM pgmq.send_batch_topic('orders.b2', ARRAY['{"b": 3}']::jsonb[], 3600);
SELECT * FROM pgmq.send_batch_topic('x.eu.b3', ARRAY['{"b": 4}']::jsonb[],
                                    now() + interval '1 hour');
SELECT * FROM pgmq.send_batch_topic('orders.b4', ARRAY['{"b": 5}', '{"b": 6}']::jsonb[],
                                    ARRAY['{"h": 5}', '{"h": 6}']::jsonb[]);
SELECT * FROM pgmq.send_batch_topic('orders.b5', ARRAY['{"b": 7}']::jsonb[],
                                    ARRAY['{"h": 7}']::jsonb[], 3600);
SELECT * FROM pgmq.send_batch_topic(routing_key => 'orders.b6', msgs => ARRAY['{"b": 8}']::jsonb[],
                                    headers => ARRAY['{"h": 8}']::jsonb[],
                                    delay => now() - interval '1 second');
SELECT * FROM pgmq.send_batch_topic('nobody.listens', ARRAY['{"b": 9}']::jsonb[]);
SELECT 'tp_orders' AS q, msg_id, message, headers, vt > clock_timestamp() AS delayed
  FROM pgmq.q_tp_orders
UNION ALL
SELECT 'tp_audit', msg_id, message, headers, vt > clock_timestamp() FROM pgmq.q_tp_audit
UNION ALL
SELECT 'tp_eu', msg_id, message, headers, vt > clock_timestamp() FROM pgmq.q_tp_eu
ORDER BY 1, 2;

-- messages sent to a topic are ordinary messages
SELECT msg_id, message FROM pgmq.read('tp_eu', 30, 10);

-- bad sends
SELECT f, pg_temp.err(f) FROM unnest(ARRAY[
    'SELECT pgmq.send_topic(NULL, ''{}'')',
    'SELECT pgmq.send_topic(''a..b'', ''{}'')',
    'SELECT pgmq.send_topic(''orders.*'', ''{}'')',
    'SELECT pgmq.send_topic(''orders.x'', NULL)',
    'SELECT pgmq.send_topic(''orders.x'', ''{}'', -1)',
    'SELECT pgmq.send_topic(''orders.x'', ''{}'', NULL::integer)',
    'SELECT pgmq.send_topic(''orders.x'', ''{}'', ''{}''::jsonb, -1)',
    'SELECT pgmq.send_batch_topic(NULL, ARRAY[''{}'']::jsonb[])',
    'SELECT pgmq.send_batch_topic(''a.'', ARRAY[''{}'']::jsonb[])',
    'SELECT pgmq.send_batch_topic(''orders.x'', NULL)',
    'SELECT pgmq.send_batch_topic(''orders.x'', ARRAY[]::jsonb[])',
    'SELECT pgmq.send_batch_topic(''orders.x'', ARRAY[''{}'', NULL]::jsonb[])',
    'SELECT pgmq.send_batch_topic(''orders.x'', ARRAY[''{}'']::jsonb[], -1)',
    'SELECT pgmq.send_batch_topic(''orders.x'', ARRAY[''{}'']::jsonb[], NULL::timestamptz)',
    'SELECT pgmq.send_batch_topic(''orders.x'', ARRAY[''{}'', ''{}'']::jsonb[], ARRAY[''{}'']::jsonb[])']) AS f;

-- a topic send is atomic: when one queue refuses the message, none keeps it
SELECT pgmq.create('tp_zz_strict');
SELECT pgmq.bind_topic('orders.#', 'tp_zz_strict');
ALTER TABLE pgmq.q_tp_zz_strict ADD CONSTRAINT no_bad CHECK (NOT message ? 'bad');
SELECT (SELECT count(*) FROM pgmq.q_tp_orders) AS orders_before,
       (SELECT count(*) FROM pgmq.q_tp_audit) AS audit_before;
SELECT pg_temp.err('SELECT pgmq.send_topic(''orders.eu.x'', ''{"bad": 1}'')');
SELECT pg_temp.err('SELECT pgmq.send_batch_topic(''orders.eu.x'', ARRAY[''{"ok": 1}'', ''{"bad": 1}'']::jsonb[])');
SELECT (SELECT count(*) FROM pgmq.q_tp_orders) AS orders_after,
       (SELECT count(*) FROM pgmq.q_tp_audit) AS audit_after,
       (SELECT count(*) FROM pgmq.q_tp_eu WHERE message ? 'bad') AS eu_bad;
SELECT pgmq.send_topic('orders.eu.x', '{"good": 1}') AS all_four;

-- dropping a queue removes its bindings (and only its bindings)
SELECT pgmq.drop_queue('tp_zz_strict');
SELECT queue_name, count(*) FROM pgmq.topic_bindings GROUP BY 1 ORDER BY 1;
-- a read-only transaction can send to no queue, but cannot write to one
SELECT pgmq.unbind_topic('#', 'tp_audit');
BEGIN READ ONLY;
SELECT pgmq.send_topic('nothing.matches', '{}') AS zero_in_read_only;
SELECT pg_temp.err('SELECT pgmq.send_topic(''orders.x'', ''{}'')');
ROLLBACK;

SELECT pgmq.drop_queue('tp_orders');
SELECT pgmq.drop_queue('tp_audit');
SELECT pgmq.drop_queue('tp_eu');
SELECT count(*) AS bindings_left FROM pgmq.topic_bindings;

-- the catalog: argument names, defaults and result columns as the API says
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS result
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmq'::regnamespace
   AND p.proname IN ('bind_topic', 'unbind_topic', 'send_topic', 'send_batch_topic',
                     'test_routing', 'list_topic_bindings', 'validate_routing_key',
                     'validate_topic_pattern')
 ORDER BY 1::text;
SELECT proname, pg_get_function_arguments(oid) FROM pg_proc
 WHERE pronamespace = 'pgmq'::regnamespace AND proname IN ('send_topic', 'send_batch_topic')
 ORDER BY 2;
