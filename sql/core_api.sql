-- core_api: every function and overload of the core API, with output that
-- does not depend on the clock (times are compared, never printed).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

SELECT pgmq.create('core');
SELECT pgmq.create('core');               -- idempotent
SELECT pgmq.create_non_partitioned('core2');
SELECT pgmq.create_unlogged('core_unlogged');
SELECT queue_name, is_partitioned, is_unlogged, created_at <= now() AS created_ok
  FROM pgmq.list_queues() ORDER BY queue_name;
SELECT relname, relpersistence FROM pg_class
 WHERE relnamespace = 'pgmq'::regnamespace AND relname LIKE '%core%' AND relkind = 'r'
 ORDER BY relname;

-- table layout matches the reference
SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity
  FROM pg_attribute WHERE attrelid = 'pgmq.q_core'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod), attnotnull
  FROM pg_attribute WHERE attrelid = 'pgmq.a_core'::regclass AND attnum > 0 ORDER BY attnum;

-- send: all six shapes; the column is named after the function
SELECT * FROM pgmq.send('core', '{"n": 1}');
SELECT * FROM pgmq.send('core', '{"n": 2}', 0);
SELECT * FROM pgmq.send('core', '{"n": 3}', now() - interval '1 second');
SELECT * FROM pgmq.send('core', '{"n": 4}', '{"h": 4}'::jsonb);
SELECT * FROM pgmq.send('core', '{"n": 5}', '{"h": 5}'::jsonb, 0);
SELECT * FROM pgmq.send('core', '{"n": 6}', '{"h": 6}'::jsonb, now() - interval '1 second');
SELECT pgmq.send('core', '{"n": 7}', 3600);                    -- delayed
SELECT pgmq.send('core', '{"n": 8}', '{"h": 8}'::jsonb, now() + interval '1 hour');
SELECT msg_id, read_ct, message, headers, vt > clock_timestamp() AS delayed,
       enqueued_at = now() AS enqueued_in_xact
  FROM pgmq.q_core ORDER BY msg_id;

-- send_batch: all six shapes, ids in input order
SELECT * FROM pgmq.send_batch('core2', ARRAY['{"b": 1}', '{"b": 2}']::jsonb[]);
SELECT * FROM pgmq.send_batch('core2', ARRAY['{"b": 3}']::jsonb[], 0);
SELECT * FROM pgmq.send_batch('core2', ARRAY['{"b": 4}']::jsonb[], now());
SELECT * FROM pgmq.send_batch('core2', ARRAY['{"b": 5}', '{"b": 6}']::jsonb[],
                              ARRAY['{"h": 5}', NULL]::jsonb[]);
SELECT * FROM pgmq.send_batch('core2', ARRAY['{"b": 7}']::jsonb[], ARRAY['{"h": 7}']::jsonb[], 600);
SELECT * FROM pgmq.send_batch('core2', ARRAY['{"b": 8}']::jsonb[], ARRAY['{"h": 8}']::jsonb[],
                              now() + interval '10 minutes');
SELECT msg_id, message, headers, vt > clock_timestamp() AS delayed FROM pgmq.q_core2 ORDER BY msg_id;

-- read: visible messages only, oldest first, hidden for vt seconds
SELECT msg_id, read_ct, message, headers, last_read_at IS NOT NULL AS was_read,
       vt > clock_timestamp() + interval '25 seconds' AS hidden
  FROM pgmq.read('core', 30, 2);
SELECT msg_id, read_ct, message FROM pgmq.read('core', 30, 10);   -- the rest that is visible
SELECT msg_id FROM pgmq.read('core', 30, 10);                     -- nothing visible now
-- vt 0: read and leave visible
SELECT msg_id, read_ct FROM pgmq.read('core2', 0, 1);
SELECT msg_id, read_ct FROM pgmq.read('core2', 0, 1);
-- conditional
SELECT msg_id, message FROM pgmq.read('core2', 30, 10, '{"b": 4}');
SELECT msg_id, message FROM pgmq.read(queue_name => 'core2', vt => 30, qty => 10,
                                      conditional => '{"b": 99}');

-- set_vt: four shapes; unknown ids give no row
SELECT msg_id, vt <= clock_timestamp() AS visible FROM pgmq.set_vt('core', 1, 0);
SELECT msg_id, vt > clock_timestamp() AS hidden FROM pgmq.set_vt('core', 2, now() + interval '1 hour');
SELECT msg_id, vt <= clock_timestamp() AS visible FROM pgmq.set_vt('core', ARRAY[3, 4, 999], 0);
SELECT msg_id, vt <= clock_timestamp() AS visible
  FROM pgmq.set_vt('core', ARRAY[5, 6]::bigint[], now() - interval '1 minute');
SELECT msg_id FROM pgmq.set_vt('core', 999, 0);
SELECT msg_id, read_ct FROM pgmq.read('core', 30, 10);    -- 1, 3, 4, 5, 6 are back

-- pop: deletes, read_ct unchanged
SELECT msg_id, read_ct, message FROM pgmq.pop('core2');
SELECT msg_id, message FROM pgmq.pop('core2', 2);
SELECT count(*) FROM pgmq.q_core2 WHERE msg_id <= 3;

-- delete
SELECT pgmq.delete('core', 1::bigint);
SELECT pgmq.delete('core', 1::bigint);    -- gone already
SELECT * FROM pgmq.delete('core', ARRAY[2, 3, 999]::bigint[]) ORDER BY 1;
SELECT * FROM pgmq.delete('core', ARRAY[]::bigint[]);

-- archive: moved atomically, columns kept
SELECT pgmq.archive('core', 4::bigint);
SELECT pgmq.archive('core', 4::bigint);
SELECT * FROM pgmq.archive('core', ARRAY[5, 6, 999]::bigint[]) ORDER BY 1;
SELECT msg_id, read_ct, message, headers, archived_at >= enqueued_at AS ordered_times
  FROM pgmq.a_core ORDER BY msg_id;
SELECT msg_id FROM pgmq.q_core ORDER BY msg_id;

-- metrics
SELECT queue_name, queue_length, queue_visible_length, total_messages,
       newest_msg_age_sec >= 0 AS newest_ok, oldest_msg_age_sec >= newest_msg_age_sec AS oldest_ok,
       scrape_time = now() AS scrape_now
  FROM pgmq.metrics('core');
SELECT queue_name, queue_length, newest_msg_age_sec, oldest_msg_age_sec, total_messages,
       queue_visible_length
  FROM pgmq.metrics('core_unlogged');
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics_all() ORDER BY queue_name;
SELECT pg_typeof(newest_msg_age_sec), pg_typeof(queue_length) FROM pgmq.metrics('core');

-- purge: all messages, archive untouched
SELECT pgmq.purge_queue('core');
SELECT pgmq.purge_queue('core');
SELECT count(*) AS archived FROM pgmq.a_core;

-- read_with_poll: returns at once when a message is there, waits when not
SELECT pgmq.send('core', '{"poll": 1}');
SELECT message FROM pgmq.read_with_poll('core', 30, 1);
SELECT clock_timestamp() AS t0 \gset
SELECT message FROM pgmq.read_with_poll('core', 30, 1, 1, 50);    -- times out, empty
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '1 second' AS waited;
SELECT message FROM pgmq.read_with_poll('core', 30, 5, 0, 10, '{"poll": 2}');

-- deprecated and helper functions
SELECT pgmq.detach_archive('core');
SELECT pgmq.validate_queue_name('Valid_Name-1');
SELECT pgmq.format_table_name('MyQueue', 'q');
SELECT pgmq.format_table_name('my-queue', 'A');
BEGIN;
SELECT pgmq.acquire_queue_lock('core');
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid();
COMMIT;

-- drop_queue
SELECT pgmq.drop_queue('core2');
SELECT pgmq.drop_queue('core2');          -- NOTICE, false
SELECT pgmq.drop_queue('core_unlogged', false);   -- deprecated form: WARNING
SELECT pgmq.drop_queue('core');
SELECT count(*) FROM pg_class WHERE relnamespace = 'pgmq'::regnamespace AND relname LIKE '%core%';
SELECT * FROM pgmq.list_queues();

-- transactional create and drop
BEGIN;
SELECT pgmq.create('txq');
ROLLBACK;
SELECT count(*) FROM pgmq.meta WHERE queue_name = 'txq';
SELECT to_regclass('pgmq.q_txq');
