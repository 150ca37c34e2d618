-- client_calls: every function called the way client libraries call it.
--
-- 1. The argument names and overload sets clients depend on (catalog checks).
-- 2. Every function called with named arguments (queue_name => ..., vt => ...),
--    with scalar results coming back in a column named after the function.
-- 3. Untyped parameters: drivers (node-postgres, pgx, asyncpg; psycopg for
--    strings) send $n without a type. PREPARE without a type list takes the
--    same path in the server as a protocol Parse message with type OID 0
--    (parse_analyze_varparams: every $n starts as "unknown" and overload
--    resolution decides), so each call shape is prepared and the parameter
--    types it resolved to, or the error it gets, are shown. 42725 ("is not
--    unique") marks calls that are ambiguous in the reference overload set
--    itself (API.md lists those overloads; the PL/pgSQL pgmq 1.11 has them
--    too): clients add a cast there, as the statements in part 4 do.
-- 4. The exact statements the known clients send (docs/clients.md), prepared
--    untyped where the client leaves them untyped.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

-- ---------------------------------------------------------------------------
-- 1. Catalog: argument names, overload sets, plain scalar results

-- Every argument of every API function carries one of the names API.md gives.
SELECT p.oid::regprocedure AS function, a.name AS unexpected_argument_name
  FROM pg_proc p, unnest(p.proargnames) WITH ORDINALITY AS a(name, n)
 WHERE p.pronamespace = 'pgmq'::regnamespace
   AND (p.proargmodes IS NULL OR p.proargmodes[a.n] IN ('i', 'b', 'v'))  -- inputs only
   AND p.proname IN ('create', 'create_non_partitioned', 'create_unlogged',
       'create_partitioned', 'drop_queue', 'purge_queue', 'detach_archive',
       'list_queues', 'metrics', 'metrics_all', 'validate_queue_name',
       'format_table_name', 'acquire_queue_lock', 'convert_archive_partitioned',
       'send', 'send_batch', 'read', 'read_with_poll', 'pop', 'set_vt', 'delete',
       'archive', 'read_grouped', 'read_grouped_with_poll', 'read_grouped_rr',
       'read_grouped_rr_with_poll', 'read_grouped_head', 'read_grouped_head_with_poll',
       'create_fifo_index', 'bind_topic',
       'unbind_topic', 'send_topic', 'send_batch_topic', 'test_routing',
       'list_topic_bindings', 'enable_notify_insert', 'disable_notify_insert',
       'update_notify_insert')
   AND a.name NOT IN ('queue_name', 'msg', 'msgs', 'headers', 'delay', 'vt',
       'qty', 'conditional', 'max_poll_seconds', 'poll_interval_ms', 'msg_id',
       'msg_ids', 'partition_interval', 'retention_interval', 'routing_key',
       'pattern', 'throttle_interval_ms', 'table_name', 'leading_partition',
       'prefix', 'partitioned', 'premake')
 ORDER BY 1, 2;

-- The overload sets of the message functions, exactly as API.md lists them.
SELECT p.proname, count(*) AS overloads,
       string_agg(pg_get_function_identity_arguments(p.oid), ' | '
                  ORDER BY pg_get_function_identity_arguments(p.oid)) AS signatures
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmq'::regnamespace
   AND p.proname IN ('send', 'send_batch', 'read', 'read_with_poll', 'pop',
                     'set_vt', 'delete', 'archive', 'drop_queue', 'purge_queue')
 GROUP BY p.proname ORDER BY p.proname;

-- Scalar results are plain scalars (no OUT parameters, no RETURNS TABLE), so
-- SELECT * FROM pgmq.f(...) names its column f.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns, p.proretset AS setof
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmq'::regnamespace
   AND p.proname IN ('send', 'send_batch', 'archive', 'delete', 'purge_queue', 'drop_queue')
   AND (p.proargmodes IS NOT NULL OR p.prorettype NOT IN ('bigint'::regtype, 'boolean'::regtype))
 ORDER BY 1;

-- ---------------------------------------------------------------------------
-- 2. Named arguments

SELECT pgmq.validate_queue_name(queue_name => 'cc');
SELECT pgmq.format_table_name(queue_name => 'CC', prefix => 'q');
SELECT pgmq.create(queue_name => 'cc');
SELECT pgmq.create(queue_name => 'cc');                 -- again: no error
SELECT pgmq.create_non_partitioned(queue_name => 'cc_np');
SELECT pgmq.create_unlogged(queue_name => 'cc_unlogged');
BEGIN;
SELECT pgmq.acquire_queue_lock(queue_name => 'cc');
COMMIT;
SELECT queue_name, is_partitioned, is_unlogged
  FROM pgmq.list_queues() WHERE queue_name LIKE 'cc%' ORDER BY queue_name;

-- send: all six shapes
SELECT * FROM pgmq.send(queue_name => 'cc', msg => '{"n": 1}');
SELECT * FROM pgmq.send(queue_name => 'cc', msg => '{"n": 2}', delay => 0);
SELECT * FROM pgmq.send(queue_name => 'cc', msg => '{"n": 3}', delay => now());
SELECT * FROM pgmq.send(queue_name => 'cc', msg => '{"n": 4}', headers => '{"h": 4}');
SELECT * FROM pgmq.send(queue_name => 'cc', msg => '{"n": 5}', headers => '{"h": 5}', delay => 0);
SELECT * FROM pgmq.send(queue_name => 'cc', msg => '{"n": 6}', headers => '{"h": 6}', delay => now());
-- named arguments in any order, and mixed with positional ones
SELECT * FROM pgmq.send(delay => 0, msg => '{"n": 7}', queue_name => 'cc');
SELECT * FROM pgmq.send('cc', msg => '{"n": 8}');

-- send_batch: all six shapes
SELECT * FROM pgmq.send_batch(queue_name => 'cc', msgs => ARRAY['{"b": 1}', '{"b": 2}']::jsonb[]);
SELECT * FROM pgmq.send_batch(queue_name => 'cc', msgs => ARRAY['{"b": 3}']::jsonb[], delay => 0);
SELECT * FROM pgmq.send_batch(queue_name => 'cc', msgs => ARRAY['{"b": 4}']::jsonb[], delay => now());
SELECT * FROM pgmq.send_batch(queue_name => 'cc', msgs => ARRAY['{"b": 5}']::jsonb[],
                              headers => ARRAY['{"h": 5}']::jsonb[]);
SELECT * FROM pgmq.send_batch(queue_name => 'cc', msgs => ARRAY['{"b": 6}']::jsonb[],
                              headers => ARRAY['{"h": 6}']::jsonb[], delay => 0);
SELECT * FROM pgmq.send_batch(queue_name => 'cc', msgs => ARRAY['{"b": 7}']::jsonb[],
                              headers => ARRAY['{"h": 7}']::jsonb[], delay => now());

-- The columns of a message, by name and in order.
SELECT * FROM pgmq.read(queue_name => 'cc', vt => 0, qty => 1) \gdesc

SELECT msg_id, read_ct, message, headers, vt > clock_timestamp() AS hidden
  FROM pgmq.read(queue_name => 'cc', vt => 30, qty => 2);
SELECT msg_id, read_ct, message
  FROM pgmq.read(queue_name => 'cc', vt => 30, qty => 5, conditional => '{"n": 8}');
SELECT msg_id, read_ct, message
  FROM pgmq.read(queue_name => 'cc', qty => 1, vt => 30);
SELECT msg_id, read_ct, message
  FROM pgmq.read_with_poll(queue_name => 'cc', vt => 30, qty => 1,
                           max_poll_seconds => 1, poll_interval_ms => 10);
SELECT msg_id, read_ct, message
  FROM pgmq.read_with_poll(queue_name => 'cc', vt => 30, qty => 5, max_poll_seconds => 1,
                           poll_interval_ms => 10, conditional => '{"b": 1}');
SELECT msg_id, read_ct, message
  FROM pgmq.read_with_poll(queue_name => 'cc', vt => 30, qty => 1);
-- read_grouped_head (pgmq 1.11.1) and its polling form (1.12.0): the messages
-- above have no group header, so they are one group whose head is in flight
SELECT count(*) FROM pgmq.read_grouped_head(queue_name => 'cc', vt => 30, qty => 5);
SELECT count(*) FROM pgmq.read_grouped_head_with_poll(queue_name => 'cc', vt => 30, qty => 5,
                                                      max_poll_seconds => 0, poll_interval_ms => 10);

-- set_vt: all four shapes (ids 1 and 2 are in flight)
SELECT msg_id, vt > clock_timestamp() AS hidden
  FROM pgmq.set_vt(queue_name => 'cc', msg_id => 1, vt => 0);
SELECT msg_id, vt > clock_timestamp() AS hidden
  FROM pgmq.set_vt(queue_name => 'cc', msg_id => 1, vt => now() + interval '1 hour');
SELECT msg_id, vt > clock_timestamp() AS hidden
  FROM pgmq.set_vt(queue_name => 'cc', msg_ids => ARRAY[1, 2], vt => 0);
SELECT msg_id, vt > clock_timestamp() AS hidden
  FROM pgmq.set_vt(queue_name => 'cc', msg_ids => ARRAY[1, 2, 999], vt => now() - interval '1 hour');

SELECT msg_id, read_ct, message FROM pgmq.pop(queue_name => 'cc');
SELECT msg_id, read_ct, message FROM pgmq.pop(queue_name => 'cc', qty => 2);

-- scalar results: the column is named after the function
SELECT * FROM pgmq.delete(queue_name => 'cc', msg_id => 4);
SELECT * FROM pgmq.delete(queue_name => 'cc', msg_id => 4);
SELECT * FROM pgmq.delete(queue_name => 'cc', msg_ids => ARRAY[5, 6, 999]);
SELECT * FROM pgmq.archive(queue_name => 'cc', msg_id => 7);
SELECT * FROM pgmq.archive(queue_name => 'cc', msg_ids => ARRAY[8, 9, 999]);
SELECT pgmq.archive(queue_name => 'cc', msg_id => 10);  -- in the select list: same name
SELECT (SELECT count(*) FROM pgmq.a_cc) AS archived, (SELECT count(*) FROM pgmq.q_cc) AS queued;

SELECT queue_name, queue_length, queue_visible_length, total_messages,
       newest_msg_age_sec >= 0 AS newest_ok, oldest_msg_age_sec >= newest_msg_age_sec AS oldest_ok
  FROM pgmq.metrics(queue_name => 'cc');
SELECT queue_name, queue_length, total_messages
  FROM pgmq.metrics_all() WHERE queue_name LIKE 'cc%' ORDER BY queue_name;

SELECT * FROM pgmq.purge_queue(queue_name => 'cc');
SELECT pgmq.detach_archive(queue_name => 'cc');
SELECT * FROM pgmq.drop_queue(queue_name => 'cc');
SELECT * FROM pgmq.drop_queue(queue_name => 'cc_np');
SELECT * FROM pgmq.drop_queue(queue_name => 'cc_unlogged', partitioned => false);
SELECT * FROM pgmq.drop_queue(queue_name => 'cc_np');   -- gone: false, no error

-- ---------------------------------------------------------------------------
-- 3. Untyped parameters

-- resolve(stmt): prepare stmt with every $n untyped (as a driver's Parse
-- message does) and return the parameter types the server chose, or the
-- error it raised.
CREATE FUNCTION pg_temp.resolve(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    types text;
BEGIN
    EXECUTE 'PREPARE pgmq_probe AS ' || stmt;
    SELECT parameter_types::text INTO types
      FROM pg_prepared_statements WHERE name = 'pgmq_probe';
    DEALLOCATE pgmq_probe;
    RETURN types;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Positional, untyped: one overload for each, except where API.md itself
-- lists two overloads that differ only in a parameter type of another
-- category (bigint / bigint[], integer / timestamptz / jsonb).
SELECT stmt, pg_temp.resolve(stmt) AS resolves_to
  FROM unnest(ARRAY[
    'SELECT * FROM pgmq.create($1)',
    'SELECT * FROM pgmq.create_unlogged($1)',
    'SELECT * FROM pgmq.send($1, $2)',
    'SELECT * FROM pgmq.send_batch($1, $2)',
    'SELECT * FROM pgmq.read($1, $2, $3)',
    'SELECT * FROM pgmq.read($1, $2, $3, $4)',
    'SELECT * FROM pgmq.read_with_poll($1, $2, $3, $4, $5)',
    'SELECT * FROM pgmq.read_with_poll($1, $2, $3, $4, $5, $6)',
    'SELECT * FROM pgmq.pop($1)',
    'SELECT * FROM pgmq.pop($1, $2)',
    'SELECT * FROM pgmq.metrics($1)',
    'SELECT * FROM pgmq.purge_queue($1)',
    'SELECT * FROM pgmq.detach_archive($1)',
    'SELECT * FROM pgmq.drop_queue($1)',
    'SELECT * FROM pgmq.drop_queue($1, $2)',
    'SELECT pgmq.list_queues()',
    'SELECT * FROM pgmq.metrics_all()',
    'SELECT * FROM pgmq.archive($1, $2)',
    'SELECT * FROM pgmq.delete($1, $2)',
    'SELECT * FROM pgmq.set_vt($1, $2, $3)',
    'SELECT * FROM pgmq.set_vt($1, $2, $3::integer)',
    'SELECT * FROM pgmq.send($1, $2, $3)',
    'SELECT * FROM pgmq.send($1, $2, $3, $4)',
    'SELECT * FROM pgmq.send_batch($1, $2, $3)',
    'SELECT * FROM pgmq.send_batch($1, $2, $3, $4)',
    'SELECT * FROM pgmq.read_grouped_head($1, $2, $3)',
    'SELECT * FROM pgmq.read_grouped_head_with_poll($1, $2, $3)',
    'SELECT * FROM pgmq.read_grouped_head_with_poll($1, $2, $3, $4, $5)'
  ]) WITH ORDINALITY AS t(stmt, n) ORDER BY n;

-- Named, untyped: the argument name alone picks msg_id or msg_ids and
-- headers or delay; integer versus timestamptz still needs a cast.
SELECT stmt, pg_temp.resolve(stmt) AS resolves_to
  FROM unnest(ARRAY[
    'SELECT * FROM pgmq.read(queue_name => $1, vt => $2, qty => $3)',
    'SELECT * FROM pgmq.pop(queue_name => $1, qty => $2)',
    'SELECT * FROM pgmq.archive(queue_name => $1, msg_id => $2)',
    'SELECT * FROM pgmq.archive(queue_name => $1, msg_ids => $2)',
    'SELECT * FROM pgmq.delete(queue_name => $1, msg_id => $2)',
    'SELECT * FROM pgmq.delete(queue_name => $1, msg_ids => $2)',
    'SELECT * FROM pgmq.send(queue_name => $1, msg => $2, headers => $3)',
    'SELECT * FROM pgmq.send_batch(queue_name => $1, msgs => $2, headers => $3)',
    'SELECT * FROM pgmq.send(queue_name => $1, msg => $2, delay => $3)',
    'SELECT * FROM pgmq.set_vt(queue_name => $1, msg_id => $2, vt => $3)',
    'SELECT * FROM pgmq.set_vt(queue_name => $1, msg_id => $2, vt => $3::integer)',
    'SELECT * FROM pgmq.set_vt(queue_name => $1, msg_ids => $2, vt => $3::timestamptz)',
    'SELECT * FROM pgmq.read_grouped_head(queue_name => $1, vt => $2, qty => $3)',
    'SELECT * FROM pgmq.read_grouped_head_with_poll(queue_name => $1, vt => $2, qty => $3, max_poll_seconds => $4, poll_interval_ms => $5)'
  ]) WITH ORDINALITY AS t(stmt, n) ORDER BY n;

-- Prepared untyped statements run: values arrive as text, as from a driver.
SELECT pgmq.create('cc_untyped');
PREPARE u_send AS SELECT * FROM pgmq.send($1, $2);
PREPARE u_send_batch AS SELECT * FROM pgmq.send_batch($1, $2);
PREPARE u_read AS SELECT msg_id, read_ct, message FROM pgmq.read($1, $2, $3);
PREPARE u_poll AS SELECT msg_id, read_ct, message FROM pgmq.read_with_poll($1, $2, $3, $4, $5);
PREPARE u_pop AS SELECT msg_id, read_ct, message FROM pgmq.pop($1);
PREPARE u_pop2 AS SELECT msg_id, read_ct, message FROM pgmq.pop($1, $2);
PREPARE u_archive AS SELECT * FROM pgmq.archive(queue_name => $1, msg_id => $2);
PREPARE u_delete AS SELECT * FROM pgmq.delete(queue_name => $1, msg_ids => $2);
PREPARE u_set_vt AS SELECT msg_id, vt > clock_timestamp() AS hidden
                      FROM pgmq.set_vt($1, $2::bigint, $3::integer);
PREPARE u_metrics AS SELECT queue_name, queue_length, total_messages FROM pgmq.metrics($1);
PREPARE u_purge AS SELECT * FROM pgmq.purge_queue($1);
PREPARE u_drop AS SELECT * FROM pgmq.drop_queue($1);
SELECT name, parameter_types FROM pg_prepared_statements WHERE name LIKE 'u\_%' ORDER BY name;
EXECUTE u_send('cc_untyped', '{"u": 1}');
EXECUTE u_send_batch('cc_untyped', '{"{\"u\": 2}","{\"u\": 3}","{\"u\": 4}","{\"u\": 5}"}');
EXECUTE u_read('cc_untyped', '30', '1');
EXECUTE u_poll('cc_untyped', '30', '1', '1', '10');
EXECUTE u_set_vt('cc_untyped', '1', '0');
EXECUTE u_pop('cc_untyped');
EXECUTE u_pop2('cc_untyped', '2');
EXECUTE u_archive('cc_untyped', '2');
EXECUTE u_delete('cc_untyped', '{1,999}');
EXECUTE u_metrics('cc_untyped');
EXECUTE u_purge('cc_untyped');
EXECUTE u_drop('cc_untyped');
DEALLOCATE ALL;

-- ---------------------------------------------------------------------------
-- 4. The statements known clients send (see docs/clients.md), as they send
--    them (psycopg turns pgmq-py's %s into $n). Parameters without a cast are
--    untyped here, the strictest case.
SELECT client, stmt, pg_temp.resolve(stmt) AS resolves_to
  FROM (VALUES
    ('pgmq-js', 'SELECT pgmq.list_queues()'),
    ('pgmq-js', 'SELECT pgmq.create($1)'),
    ('pgmq-js', 'SELECT pgmq.create_unlogged($1)'),
    ('pgmq-js', 'SELECT pgmq.drop_queue($1)'),
    ('pgmq-js', 'SELECT pgmq.purge_queue($1)'),
    ('pgmq-js', 'SELECT pgmq.detach_archive($1)'),
    ('pgmq-js', 'SELECT * FROM pgmq.metrics($1);'),
    ('pgmq-js', 'SELECT * FROM pgmq.metrics_all()'),
    ('pgmq-js', 'SELECT * FROM pgmq.send($1::text, $2::jsonb, $3::integer)'),
    ('pgmq-js', 'SELECT * FROM pgmq.send_batch($1::text, $2::jsonb[], $3::integer)'),
    ('pgmq-js', 'SELECT * FROM pgmq.read($1, $2, $3)'),
    ('pgmq-js', 'SELECT * FROM pgmq.pop($1)'),
    ('pgmq-js', 'SELECT pgmq.archive($1, $2::bigint)'),
    ('pgmq-js', 'SELECT pgmq.archive($1, $2::bigint[])'),
    ('pgmq-js', 'SELECT pgmq.delete($1, $2::bigint)'),
    ('pgmq-js', 'SELECT pgmq.delete($1, $2::bigint[])'),
    ('pgmq-js', 'SELECT * FROM pgmq.set_vt($1, $2, $3);'),
    ('pgmq-go', 'SELECT pgmq.create($1)'),
    ('pgmq-go', 'SELECT pgmq.create_unlogged($1)'),
    ('pgmq-go', 'SELECT pgmq.drop_queue($1)'),
    ('pgmq-go', 'SELECT * FROM pgmq.send($1, $2, $3::int)'),
    ('pgmq-go', 'SELECT * FROM pgmq.send($1, $2, $3::timestamptz)'),
    ('pgmq-go', 'SELECT * FROM pgmq.send_batch($1, $2::jsonb[], $3::int)'),
    ('pgmq-go', 'SELECT * FROM pgmq.send_batch($1, $2::jsonb[], $3::timestamptz)'),
    ('pgmq-go', 'SELECT * FROM pgmq.read($1, $2, $3)'),
    ('pgmq-go', 'SELECT * FROM pgmq.pop($1)'),
    ('pgmq-go', 'SELECT pgmq.archive($1, $2::bigint)'),
    ('pgmq-go', 'SELECT pgmq.archive($1, $2::bigint[])'),
    ('pgmq-go', 'SELECT pgmq.delete($1, $2::bigint)'),
    ('pgmq-go', 'SELECT pgmq.delete($1, $2::bigint[])'),
    ('pgmq-go', 'SELECT * FROM pgmq.set_vt($1, $2::bigint, $3::int)'),
    ('pgmq-py', 'SELECT pgmq.create($1)'),
    ('pgmq-py', 'SELECT pgmq.create_unlogged($1)'),
    ('pgmq-py', 'SELECT pgmq.drop_queue($1)'),
    ('pgmq-py', 'SELECT pgmq.validate_queue_name($1)'),
    ('pgmq-py', 'SELECT queue_name, created_at, is_partitioned, is_unlogged FROM pgmq.list_queues()'),
    ('pgmq-py', 'SELECT * FROM pgmq.send(queue_name=>$1::text, msg=>$2::jsonb)'),
    ('pgmq-py', 'SELECT * FROM pgmq.send(queue_name=>$1::text, msg=>$2::jsonb, delay=>$3::integer)'),
    ('pgmq-py', 'SELECT * FROM pgmq.send(queue_name=>$1::text, msg=>$2::jsonb, headers=>$3::jsonb, delay=>$4::timestamptz)'),
    ('pgmq-py', 'SELECT * FROM pgmq.send_batch(queue_name=>$1::text, msgs=>$2::jsonb[], headers=>$3::jsonb[], delay=>$4::integer)'),
    ('pgmq-py', 'SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read(queue_name=>$1::text, vt=>$2::integer, qty=>$3::integer, conditional=>$4::jsonb)'),
    ('pgmq-py', 'SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read_with_poll(queue_name=>$1::text, vt=>$2::integer, qty=>$3::integer, max_poll_seconds=>$4::integer, poll_interval_ms=>$5::integer)'),
    ('pgmq-py', 'SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.pop(queue_name=>$1::text, qty=>$2::integer)'),
    ('pgmq-py', 'SELECT pgmq.delete(queue_name=>$1::text, msg_id=>$2::bigint)'),
    ('pgmq-py', 'SELECT * FROM pgmq.archive(queue_name=>$1::text, msg_ids=>$2::bigint[])'),
    ('pgmq-py', 'SELECT pgmq.purge_queue(queue_name=>$1)'),
    ('pgmq-py', 'SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.set_vt(queue_name=>$1::text, msg_ids=>$2::bigint[], vt=>$3::timestamptz)'),
    ('pgmq-py', 'SELECT * FROM pgmq.metrics(queue_name=>$1)'),
    ('pgmq-py', 'SELECT pgmq.detach_archive($1)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.acquire_queue_lock(queue_name=>$1::text)'),
    ('pgmq (Rust)', 'SELECT EXISTS(SELECT 1 FROM pgmq.meta WHERE queue_name = $1::text)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.create(queue_name=>$1::text)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.create_unlogged(queue_name=>$1::text)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.drop_queue(queue_name=>$1::text)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.purge_queue(queue_name=>$1::text)'),
    ('pgmq (Rust)', 'SELECT queue_name, is_partitioned, is_unlogged, created_at from pgmq.list_queues()'),
    ('pgmq (Rust)', 'SELECT * FROM pgmq.send(queue_name=>$1::text, msg=>$2::jsonb, headers=>$3::jsonb, delay=>$4::int)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.send_batch(queue_name=>$1::text, msgs=>$2::jsonb[], delay=>$3::integer)'),
    ('pgmq (Rust)', 'SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers FROM pgmq.read(queue_name=>$1::text, vt=>$2::integer, qty=>$3::integer)'),
    ('pgmq (Rust)', 'SELECT msg_id, read_ct, enqueued_at, vt, message from pgmq.read_with_poll(queue_name=>$1::text, vt=>$2::integer, qty=>$3::integer, max_poll_seconds=>$4::integer, poll_interval_ms=>$5::integer)'),
    ('pgmq (Rust)', 'SELECT msg_id, read_ct, enqueued_at, last_read_at, vt, message, headers from pgmq.pop(queue_name=>$1::text, qty=>$2::integer)'),
    ('pgmq (Rust)', 'SELECT * from pgmq.archive(queue_name=>$1::text, msg_ids=>$2::bigint[])'),
    ('pgmq (Rust)', 'SELECT * from pgmq.delete(queue_name=>$1::text, msg_id=>$2::bigint)'),
    ('pgmq (Rust)', 'SELECT msg_id, read_ct, enqueued_at, vt, message from pgmq.set_vt(queue_name=>$1::text, msg_id=>$2::bigint, vt=>$3::integer)')
  ) AS c(client, stmt)
 ORDER BY client, stmt;
