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

-- read_multi (through the router tour_m1 is on one shard, tour_m2 and
-- tour_m3 on the other: rows from both shards are printed in a fixed order,
-- their vt order is checked, and a call that may choose among more visible
-- messages than qty prints a count)
SELECT pgmq.create('tour_m1');
SELECT pgmq.create('tour_m2');
SELECT pgmq.create('tour_m3');
SELECT pgmq.send('tour_m1', '{"m": 1}');
SELECT pgmq.send('tour_m2', '{"m": 2}');
SELECT pgmq.send('tour_m1', '{"m": 3}');
SELECT pgmq.send('tour_m3', '{"m": 4}');
SELECT pgmq.send('tour_m2', '{"m": 5}', 3600);
SELECT queue_name, msg_id, read_ct, message FROM pgmq.read_multi(ARRAY['tour_m2', 'tour_m1', 'tour_m3'], 30, 10)
 ORDER BY queue_name, msg_id;
SELECT count(*) FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m2', 'tour_m3'], 30, 10);
SELECT pgmq.send('tour_m3', '{"m": 6}');
SELECT pgmq.send('tour_m2', '{"m": 7}');
SELECT queue_name, msg_id, read_ct, message FROM pgmq.read_multi(ARRAY['tour_m3', 'TOUR_M2'], 30, 10);
SELECT pgmq.send_batch('tour_m1', ARRAY['{"m": 8}', '{"m": 9}']::jsonb[]);
SELECT pgmq.send_batch('tour_m3', ARRAY['{"m": 10}', '{"m": 11}']::jsonb[]);
SELECT count(*) AS n, bool_and(r.vt > clock_timestamp()) AS hidden,
       bool_and(r.prev IS NULL OR r.prev <= r.vt) AS oldest_first
  FROM (SELECT m.vt, lag(m.vt) OVER (ORDER BY m.ordinality) AS prev
          FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m3'], 30, 3) WITH ORDINALITY m) r;
SELECT count(*) FROM pgmq.read_multi_with_poll(ARRAY['tour_m1', 'tour_m3'], 30, 5);
SELECT clock_timestamp() AS t0 \gset
SELECT queue_name, message FROM pgmq.read_multi_with_poll(ARRAY['tour_m1', 'tour_m2', 'tour_m3'], 30, 5, 1, 50);
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '1 second' AS waited;
SELECT msg_id FROM pgmq.set_vt('tour_m1', ARRAY[1, 2]::bigint[], 0) ORDER BY 1;
SELECT msg_id FROM pgmq.set_vt('tour_m2', ARRAY[1]::bigint[], 0) ORDER BY 1;
SELECT queue_name, msg_id, read_ct, message FROM pgmq.read_multi_with_poll(ARRAY['tour_m2', 'tour_m1'], 30, 5, 1, 50)
 ORDER BY queue_name, msg_id;

-- statistics (counters every route gives alike: reads and polls are left
-- out, the router may split them per shard)
SELECT pgmq.stats_reset('tour_m3');
SELECT queue_name, sends, messages_sent, messages_delivered, deletes, archives, pops, queue_length_estimate,
       stats_reset IS NOT NULL AS has_reset
  FROM pgmq.stats WHERE queue_name LIKE 'tour_m%' ORDER BY 1;
SELECT pgmq.delete('tour_m1', 1::bigint), pgmq.archive('tour_m1', 3::bigint);
SELECT queue_name, messages_sent, deletes, archives FROM pgmq.stats() WHERE queue_name = 'tour_m1';
SELECT pgmq.stats_reset();
SELECT count(*) FILTER (WHERE sends <> 0 OR deletes <> 0) AS nonzero FROM pgmq.stats WHERE queue_name LIKE 'tour%';
SELECT max_tracked_queues > 0 AS capacity, tracked_queues > 0 AS tracking, untracked_events >= 0 AS events
  FROM pgmq.stats_info();

-- deduplication, priorities, retention (per-queue settings)
SELECT pgmq.create('tour_p');
SELECT pgmq.set_dedup_window('tour_p', 60);
SELECT * FROM pgmq.send('tour_p', '{"d": 1}', '{"x-pgmq-dedup-id": "k1"}'::jsonb);
SELECT * FROM pgmq.send('tour_p', '{"d": 2}', '{"x-pgmq-dedup-id": "k1"}'::jsonb);
SELECT * FROM pgmq.send_batch('tour_p', ARRAY['{"d": 3}', '{"d": 4}', '{"d": 5}']::jsonb[],
                              ARRAY['{"x-pgmq-dedup-id": "k2"}', '{"x-pgmq-dedup-id": "k1"}', NULL]::jsonb[]);
SELECT pgmq.set_dedup_window('tour_p', 0);
SELECT * FROM pgmq.send('tour_p', '{"d": 6}', '{"x-pgmq-dedup-id": "k1"}'::jsonb);
SELECT pgmq.enable_priorities('tour_p');
SELECT pgmq.enable_priorities('tour_p');
SELECT * FROM pgmq.send('tour_p', '{"p": 9}', '{"x-pgmq-priority": 9}'::jsonb);
SELECT * FROM pgmq.send('tour_p', '{"p": 5}', '{"x-pgmq-priority": 5}'::jsonb);
SELECT msg_id, message FROM pgmq.read('tour_p', 30, 3);
SELECT pgmq.disable_priorities('tour_p'), pgmq.disable_priorities('tour_p');
SELECT pgmq.set_retention('tour_p', '1 hour', '1 day');
SELECT pgmq.set_retention('tour_p', interval '2 days', NULL);
SELECT pgmq.apply_retention('tour_p');
SELECT queue_name, queue_length, retention_expired FROM pgmq.metrics('tour_p');
SELECT queue_name, retention_expired FROM pgmq.metrics_all() WHERE queue_name = 'tour_p';
SELECT pgmq.set_retention('tour_p', NULL, NULL);

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
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m2', 'tour_nope'], 30, 1);
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_nope', 'tour_m2', 'bad name'], 30, 1);
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m2', 'TOUR_M1'], 30, 1);
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', NULL, 'tour_m2'], 30, 1);
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m2'], -1, 1);
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m2'], 30, 0);
SELECT * FROM pgmq.read_multi(ARRAY['tour_m1', 'tour_m2'], NULL, 1);
SELECT * FROM pgmq.read_multi(NULL, 30, 1);
SELECT * FROM pgmq.read_multi(ARRAY[]::text[], 30, 1);
SELECT * FROM pgmq.read_multi(ARRAY[['tour_m1', 'tour_m2']], 30, 1);
SELECT * FROM pgmq.read_multi((SELECT array_agg('tour_m' || i) FROM generate_series(1, 33) i), 30, 1);
SELECT * FROM pgmq.read_multi_with_poll(ARRAY['tour_m1', 'tour_m2'], 30, 1, -1, 100);
SELECT * FROM pgmq.read_multi_with_poll(ARRAY['tour_m1', 'tour_m2'], 30, 1, 1, 0);
SELECT * FROM pgmq.read_multi_with_poll(ARRAY['tour_m1', 'tour_m2', 'tour_nope'], 30, 1, 1, 100);
SELECT pgmq.set_dedup_window('tour_p', -1);
SELECT pgmq.set_dedup_window('tour_nope', 10);
SELECT pgmq.set_retention('tour_p', '1 second', NULL);
SELECT pgmq.set_retention('tour_nope', '1 hour', NULL);
SELECT pgmq.apply_retention('tour_nope');
SELECT pgmq.enable_priorities('tour_nope');
SELECT pgmq.disable_priorities('bad name');
SELECT pgmq.stats_reset('bad name');
SELECT pgmq.enable_priorities('tour_p');
SELECT * FROM pgmq.send('tour_p', '{}', '{"x-pgmq-priority": 10}'::jsonb);
SELECT pgmq.disable_priorities('tour_p');
SELECT pgmq.set_dedup_window('tour_p', 60);
SELECT * FROM pgmq.send('tour_p', '{}', '{"x-pgmq-dedup-id": 5}'::jsonb);

-- drop_queue
SELECT pgmq.drop_queue('tour_d');
SELECT pgmq.drop_queue('tour_d');
SELECT pgmq.drop_queue('tour_unlogged', false);
SELECT pgmq.drop_queue('tour_core');
SELECT pgmq.drop_queue('tour_fifo');
SELECT pgmq.drop_queue('tour_b');
SELECT pgmq.drop_queue('tour_eu');
SELECT pgmq.drop_queue('tour_m1');
SELECT pgmq.drop_queue('tour_m2');
SELECT pgmq.drop_queue('tour_m3');
SELECT pgmq.drop_queue('tour_p');
SELECT count(*) FROM pgmq.list_queues() WHERE queue_name LIKE 'tour%';
SELECT count(*) FROM pgmq.list_topic_bindings() WHERE queue_name LIKE 'tour%';
