-- router/test/tour.sql: the core tour of the pgmq API, written so that its
-- output does not depend on where the queues live.  test/t/010_router.pl runs
-- it once directly on a pgmq server and once through the router (queues then
-- spread over the shards by name) and requires the same output, errors
-- included.  Times are compared, never printed; queue tables are never read
-- directly (the router has none).  Everything it creates it drops.
\set VERBOSITY terse

-- queue management
SELECT pgmq.create('tour_core');
SELECT pgmq.create('tour_core');                  -- idempotent
SELECT pgmq.create_non_partitioned('Tour_D');
SELECT pgmq.create_unlogged('tour_unlogged');
SELECT pgmq.create('tour_fifo');
SELECT pgmq.create('tour_b');
SELECT pgmq.create('tour_eu');
SELECT queue_name, is_partitioned, is_unlogged, created_at <= now() AS created_ok
  FROM pgmq.list_queues() WHERE queue_name LIKE 'tour%' ORDER BY queue_name;
SELECT count(*) FROM pgmq.meta WHERE queue_name = 'tour_core';

-- send: all six shapes
SELECT * FROM pgmq.send('tour_core', '{"n": 1}');
SELECT * FROM pgmq.send('tour_core', '{"n": 2}', 0);
SELECT * FROM pgmq.send('tour_core', '{"n": 3}', now() - interval '1 second');
SELECT * FROM pgmq.send('tour_core', '{"n": 4}', '{"h": 4}'::jsonb);
SELECT * FROM pgmq.send('tour_core', '{"n": 5}', '{"h": 5}'::jsonb, 0);
SELECT * FROM pgmq.send('tour_core', '{"n": 6}', '{"h": 6}'::jsonb, now() - interval '1 second');
SELECT pgmq.send('tour_core', '{"n": 7}', 3600);
SELECT pgmq.send(queue_name => 'tour_core', msg => '{"n": 8}', headers => '{"h": 8}', delay => now() + interval '1 hour');

-- send_batch: all six shapes, ids in input order
SELECT * FROM pgmq.send_batch('tour_d', ARRAY['{"b": 1}', '{"b": 2}']::jsonb[]);
SELECT * FROM pgmq.send_batch('tour_d', ARRAY['{"b": 3}']::jsonb[], 0);
SELECT * FROM pgmq.send_batch('tour_d', ARRAY['{"b": 4}']::jsonb[], now());
SELECT * FROM pgmq.send_batch('tour_d', ARRAY['{"b": 5}', '{"b": 6}']::jsonb[], ARRAY['{"h": 5}', NULL]::jsonb[]);
SELECT * FROM pgmq.send_batch('tour_d', ARRAY['{"b": 7}']::jsonb[], ARRAY['{"h": 7}']::jsonb[], 600);
SELECT * FROM pgmq.send_batch('tour_d', ARRAY['{"b": 8}']::jsonb[], ARRAY['{"h": 8}']::jsonb[],
                              now() + interval '10 minutes');

-- read
SELECT msg_id, read_ct, message, headers, last_read_at IS NOT NULL AS was_read,
       vt > clock_timestamp() + interval '25 seconds' AS hidden
  FROM pgmq.read('tour_core', 30, 2);
SELECT msg_id, read_ct, message FROM pgmq.read('tour_core', 30, 10);
SELECT msg_id FROM pgmq.read('tour_core', 30, 10);
SELECT msg_id, read_ct FROM pgmq.read('tour_d', 0, 1);
SELECT msg_id, read_ct FROM pgmq.read('tour_d', 0, 1);
SELECT msg_id, message FROM pgmq.read('tour_d', 30, 10, '{"b": 4}');
SELECT msg_id, message FROM pgmq.read(queue_name => 'tour_d', vt => 30, qty => 10, conditional => '{"b": 99}');

-- set_vt: four shapes
SELECT msg_id, vt <= clock_timestamp() AS visible FROM pgmq.set_vt('tour_core', 1, 0);
SELECT msg_id, vt > clock_timestamp() AS hidden FROM pgmq.set_vt('tour_core', 2, now() + interval '1 hour');
SELECT msg_id, vt <= clock_timestamp() AS visible FROM pgmq.set_vt('tour_core', ARRAY[3, 4, 999], 0) ORDER BY 1;
SELECT msg_id, vt <= clock_timestamp() AS visible
  FROM pgmq.set_vt('tour_core', ARRAY[5, 6]::bigint[], now() - interval '1 minute') ORDER BY 1;
SELECT msg_id FROM pgmq.set_vt('tour_core', 999, 0);
SELECT msg_id, read_ct FROM pgmq.read('tour_core', 30, 10);

-- pop
SELECT msg_id, read_ct, message FROM pgmq.pop('tour_d');
SELECT msg_id, message FROM pgmq.pop('tour_d', 2);

-- delete, archive
SELECT pgmq.delete('tour_core', 1::bigint);
SELECT pgmq.delete('tour_core', 1::bigint);
SELECT * FROM pgmq.delete('tour_core', ARRAY[2, 3, 999]::bigint[]) ORDER BY 1;
SELECT * FROM pgmq.delete('tour_core', ARRAY[]::bigint[]);
SELECT pgmq.archive('tour_core', 4::bigint);
SELECT pgmq.archive('tour_core', 4::bigint);
SELECT * FROM pgmq.archive('tour_core', ARRAY[5, 6, 999]::bigint[]) ORDER BY 1;

-- metrics
SELECT queue_name, queue_length, queue_visible_length, total_messages,
       newest_msg_age_sec >= 0 AS newest_ok, oldest_msg_age_sec >= newest_msg_age_sec AS oldest_ok,
       dead_lettered
  FROM pgmq.metrics('tour_core');
SELECT queue_name, queue_length, newest_msg_age_sec, oldest_msg_age_sec, total_messages, queue_visible_length
  FROM pgmq.metrics('tour_unlogged');
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics_all() WHERE queue_name LIKE 'tour%' ORDER BY 1;
SELECT pg_typeof(newest_msg_age_sec), pg_typeof(queue_length) FROM pgmq.metrics('tour_core');

-- purge
SELECT pgmq.purge_queue('tour_core');
SELECT pgmq.purge_queue('tour_core');

-- read_with_poll
SELECT pgmq.send('tour_core', '{"poll": 1}');
SELECT message FROM pgmq.read_with_poll('tour_core', 30, 1);
SELECT clock_timestamp() AS t0 \gset
SELECT message FROM pgmq.read_with_poll('tour_core', 30, 1, 1, 50);
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '1 second' AS waited;
SELECT message FROM pgmq.read_with_poll('tour_core', 30, 5, 0, 10, '{"poll": 2}');

-- FIFO groups
SELECT pgmq.create_fifo_index('tour_fifo');
SELECT pgmq.create_fifo_indexes_all();
SELECT pgmq.send('tour_fifo', jsonb_build_object('i', i), jsonb_build_object('x-pgmq-group', 'g' || (i % 3)))
  FROM generate_series(1, 9) i;
SELECT msg_id, headers->>'x-pgmq-group' AS g FROM pgmq.read_grouped('tour_fifo', 30, 4);
SELECT msg_id, headers->>'x-pgmq-group' AS g FROM pgmq.read_grouped_rr('tour_fifo', 30, 4);
SELECT msg_id FROM pgmq.read_grouped_with_poll('tour_fifo', 30, 2, 0, 10);
SELECT msg_id FROM pgmq.read_grouped_rr_with_poll('tour_fifo', 30, 2, 0, 10);

-- topics
SELECT pgmq.bind_topic('orders.#', 'tour_b');
SELECT pgmq.bind_topic('*.eu.*', 'tour_eu');
SELECT pgmq.bind_topic('orders.#', 'TOUR_B');
SELECT pattern, queue_name, compiled_regex FROM pgmq.list_topic_bindings() WHERE queue_name LIKE 'tour%' ORDER BY 1, 2;
SELECT pattern, queue_name FROM pgmq.list_topic_bindings('tour_eu');
SELECT pattern, queue_name FROM pgmq.test_routing('orders.eu.created') WHERE queue_name LIKE 'tour%' ORDER BY 1, 2;
SELECT pgmq.send_topic('orders.eu.created', '{"t": 1}');
SELECT pgmq.send_topic('orders.us.created', '{"t": 2}', 0);
SELECT pgmq.send_topic('x.eu.y', '{"t": 3}', '{"h": 1}', 0);
SELECT * FROM pgmq.send_batch_topic('orders.eu.x', ARRAY['{"t": 4}', '{"t": 5}']::jsonb[]) ORDER BY 1, 2;
SELECT * FROM pgmq.send_batch_topic('orders.eu.x', ARRAY['{"t": 6}']::jsonb[], 0) ORDER BY 1, 2;
SELECT * FROM pgmq.send_batch_topic('orders.eu.x', ARRAY['{"t": 7}']::jsonb[], now()) ORDER BY 1, 2;
SELECT * FROM pgmq.send_batch_topic('orders.eu.x', ARRAY['{"t": 8}']::jsonb[], ARRAY['{"h": 8}']::jsonb[]) ORDER BY 1, 2;
SELECT * FROM pgmq.send_batch_topic('orders.eu.x', ARRAY['{"t": 9}']::jsonb[], ARRAY['{"h": 9}']::jsonb[], 0) ORDER BY 1, 2;
SELECT * FROM pgmq.send_batch_topic('orders.eu.x', ARRAY['{"t": 10}']::jsonb[], ARRAY['{"h": 10}']::jsonb[], now())
 ORDER BY 1, 2;
SELECT msg_id, message FROM pgmq.read('tour_b', 30, 20);
SELECT msg_id, message FROM pgmq.read('tour_eu', 30, 20);
SELECT pgmq.unbind_topic('orders.#', 'tour_b');
SELECT pgmq.unbind_topic('orders.#', 'tour_b');
SELECT pgmq.validate_routing_key('a.b'), pgmq.validate_topic_pattern('a.*');
SELECT pgmq.validate_routing_key('a..b');
SELECT pgmq.validate_topic_pattern('a.**');

-- insert notifications (configuration)
SELECT pgmq.enable_notify_insert('tour_b', 500);
SELECT pgmq.update_notify_insert('tour_b', 1000);
SELECT queue_name, throttle_interval_ms FROM pgmq.list_notify_insert_throttles() WHERE queue_name LIKE 'tour%';
SELECT pgmq.disable_notify_insert('tour_b');
SELECT count(*) FROM pgmq.list_notify_insert_throttles() WHERE queue_name LIKE 'tour%';

-- helpers and deprecated forms
SELECT pgmq.detach_archive('tour_core');
SELECT pgmq.validate_queue_name('Valid_Name-1');
SELECT pgmq.format_table_name('MyQueue', 'q');
SELECT pgmq.format_table_name('my-queue', 'A');
SELECT pgmq.acquire_queue_lock('tour_core');

-- errors: same SQLSTATE and text as on one server
SELECT * FROM pgmq.send('tour_nope', '{}');
SELECT * FROM pgmq.send('bad name', '{}');
SELECT * FROM pgmq.send(NULL, '{}');
SELECT * FROM pgmq.read('tour_core', -1, 1);
SELECT * FROM pgmq.read('tour_core', 30, 0);
SELECT * FROM pgmq.send_batch('tour_core', ARRAY[]::jsonb[]);
SELECT * FROM pgmq.send_batch('tour_core', ARRAY['{}']::jsonb[], ARRAY['{}', '{}']::jsonb[]);
SELECT pgmq.create(repeat('x', 48));
SELECT * FROM pgmq.send('x''; DROP TABLE pgmq.meta; --', '{}');
SELECT * FROM pgmq.send('tour"q', '{}');
SELECT * FROM pgmq.send('tour_é', '{}');
SELECT * FROM pgmq.send('tour_core', NULL);
SELECT * FROM pgmq.send('tour_core', '{}', -5);
SELECT * FROM pgmq.read_with_poll('tour_core', 30, 1, -1, 100);
SELECT * FROM pgmq.pop('tour_core', -1);
SELECT * FROM pgmq.set_vt('tour_core', NULL::bigint, 0);
SELECT * FROM pgmq.delete('tour_core', ARRAY[1, NULL]::bigint[]);
SELECT * FROM pgmq.archive('tour_core', NULL::bigint[]);
SELECT * FROM pgmq.metrics('tour_nope');
SELECT pgmq.delete('tour_nope', 1::bigint);

-- drop_queue
SELECT pgmq.drop_queue('tour_d');
SELECT pgmq.drop_queue('tour_d');
SELECT pgmq.drop_queue('tour_unlogged', false);
SELECT pgmq.drop_queue('tour_core');
SELECT pgmq.drop_queue('tour_fifo');
SELECT pgmq.drop_queue('tour_b');
SELECT pgmq.drop_queue('tour_eu');
SELECT count(*) FROM pgmq.list_queues() WHERE queue_name LIKE 'tour%';
SELECT count(*) FROM pgmq.list_topic_bindings() WHERE queue_name LIKE 'tour%';
