-- partitioned: create_partitioned, convert_archive_partitioned, drop_queue's
-- pg_partman clean-up and the deprecated forms, with pg_partman installed in
-- a schema of its own (not "partman", to show it is looked up).  Messages
-- must flow through partitioned queues as through plain ones, across
-- partition boundaries.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the children of a partitioned table, with how many rows each holds
CREATE FUNCTION pg_temp.children(tbl regclass) RETURNS TABLE(child text, bound text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT i.inhrelid::regclass AS rel FROM pg_inherits i WHERE i.inhparent = tbl
    LOOP
        child := r.rel::text;
        bound := pg_get_expr((SELECT relpartbound FROM pg_class WHERE oid = r.rel), r.rel);
        EXECUTE format('SELECT count(*) FROM %s', r.rel) INTO n;
        RETURN NEXT;
    END LOOP;
END $$;

-- Without pg_partman: a clear error, and nothing is created.
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q')$$);
SELECT pg_temp.err($$SELECT pgmq.convert_archive_partitioned('part_q')$$);
SELECT count(*) AS tables FROM pg_class WHERE relname LIKE '%part_q%';

CREATE SCHEMA partman_test;
SET client_min_messages = warning;
CREATE EXTENSION pg_partman SCHEMA partman_test;
RESET client_min_messages;

-- Argument checks.
SELECT pg_temp.err($$SELECT pgmq.create_partitioned(NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('bad name')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', '0')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', '-10')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', 'soon')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', '10 milliseconds')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', '10', '1 day')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', '1 day', '100')$$);
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_q', '1 day', '-1 day')$$);
SELECT count(*) AS tables FROM pg_class WHERE relname LIKE '%part_q%';

-- By msg_id, 10 messages a partition, retention 1000 messages.
SELECT pgmq.create_partitioned('part_q', '10', '1000');
SELECT pgmq.create_partitioned('Part_Q', '10', '1000');  -- idempotent, any case
SELECT queue_name, is_partitioned, is_unlogged FROM pgmq.list_queues() WHERE queue_name = 'part_q';
SELECT relname, relkind, pg_get_partkeydef(oid) FROM pg_class
 WHERE relnamespace = 'pgmq'::regnamespace AND relname IN ('q_part_q', 'a_part_q') ORDER BY relname;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid IN ('pgmq.q_part_q'::regclass, 'pgmq.a_part_q'::regclass) ORDER BY 1;
SELECT parent_table, control, partition_interval, retention, retention_keep_table,
       automatic_maintenance, template_table
  FROM partman_test.part_config WHERE parent_table LIKE 'pgmq.%part_q' ORDER BY 1;
SELECT * FROM pg_temp.children('pgmq.q_part_q') ORDER BY bound;
-- children get the storage settings of plain queue tables
SELECT count(*) AS children_without_fillfactor FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'pgmq.q_part_q'::regclass AND NOT coalesce(c.reloptions @> '{fillfactor=90}', false);

-- A plain queue cannot be created again as a partitioned one.
SELECT pgmq.create('part_plain');
SELECT pg_temp.err($$SELECT pgmq.create_partitioned('part_plain', '10')$$);

-- Messages across partition boundaries: 35 ids, maintenance, 35 more.
SELECT count(*) FROM pgmq.send_batch('part_q', ARRAY(SELECT jsonb_build_object('n', g) FROM generate_series(1, 35) g));
SELECT partman_test.run_maintenance('pgmq.q_part_q');
SELECT partman_test.run_maintenance('pgmq.a_part_q');
SELECT count(*) FROM pgmq.send_batch('part_q', ARRAY(SELECT jsonb_build_object('n', g) FROM generate_series(36, 70) g));
SELECT * FROM pg_temp.children('pgmq.q_part_q') ORDER BY length(bound), bound;

-- read: oldest first, across children, and in flight afterwards
SELECT msg_id, read_ct, message->>'n' AS n FROM pgmq.read('part_q', 30, 12);
SELECT msg_id, read_ct FROM pgmq.read('part_q', 30, 3, '{"n": 40}');
SELECT count(*) AS in_flight FROM pgmq.q_part_q WHERE vt > clock_timestamp();
-- archive, delete, pop, set_vt spanning several children
SELECT * FROM pgmq.archive('part_q', ARRAY[1, 9, 10, 11, 25, 999]::bigint[]) ORDER BY 1;
SELECT pgmq.archive('part_q', 40::bigint);
SELECT * FROM pgmq.delete('part_q', ARRAY[2, 19, 20, 998]::bigint[]) ORDER BY 1;
SELECT pgmq.delete('part_q', 39::bigint), pgmq.delete('part_q', 39::bigint);
SELECT msg_id, read_ct FROM pgmq.pop('part_q', 3);
SELECT msg_id, read_ct, vt > clock_timestamp() + interval '50 seconds' AS hidden
  FROM pgmq.set_vt('part_q', ARRAY[41, 59, 61]::bigint[], 60);
SELECT msg_id, vt <= clock_timestamp() AS visible FROM pgmq.set_vt('part_q', 3::bigint, 0);
SELECT msg_id, read_ct FROM pgmq.read('part_q', 30, 2);
SELECT msg_id, message->>'n' AS n FROM pgmq.a_part_q ORDER BY msg_id;
SELECT * FROM pg_temp.children('pgmq.a_part_q') WHERE n > 0 ORDER BY length(bound), bound;
SELECT queue_name, queue_length, total_messages, queue_visible_length,
       newest_msg_age_sec >= 0 AS newest_ok, oldest_msg_age_sec >= 0 AS oldest_ok
  FROM pgmq.metrics('part_q');
SELECT pgmq.purge_queue('part_q');
SELECT pgmq.send('part_q', '{"after": "purge"}');

-- By time: q_ by enqueued_at, a_ by archived_at; keys start with msg_id.
SELECT pgmq.create_partitioned('part_t', '1 day', '7 days');
SELECT relname, pg_get_partkeydef(oid) FROM pg_class
 WHERE relnamespace = 'pgmq'::regnamespace AND relname IN ('q_part_t', 'a_part_t') ORDER BY relname;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid IN ('pgmq.q_part_t'::regclass, 'pgmq.a_part_t'::regclass) ORDER BY 1;
SELECT parent_table, control, partition_interval, retention
  FROM partman_test.part_config WHERE parent_table LIKE 'pgmq.%part_t' ORDER BY 1;
SELECT pgmq.send('part_t', '{"t": 1}'), pgmq.send('part_t', '{"t": 2}', 3600);
SELECT msg_id, read_ct, message FROM pgmq.read('part_t', 30, 5);
SELECT pgmq.archive('part_t', 1::bigint), pgmq.delete('part_t', 2::bigint);
SELECT msg_id, message FROM pgmq.a_part_t;
SELECT count(*) > 0 AS in_a_child FROM pg_temp.children('pgmq.a_part_t') WHERE n = 1 AND bound <> 'DEFAULT';
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics('part_t');
-- partman's interval words are accepted as they are
SELECT pgmq.create_partitioned('part_w', 'daily', NULL);
SELECT parent_table, partition_interval, retention
  FROM partman_test.part_config WHERE parent_table LIKE 'pgmq.%part_w' ORDER BY 1;

-- Names with "-" reach pg_partman quoted.
SELECT pgmq.create_partitioned('part-dash', '100');
SELECT pgmq.send('part-dash', '{"d": 1}');
SELECT msg_id, message FROM pgmq.pop('part-dash');

-- drop_queue removes the queue and pg_partman's configuration and templates.
SELECT pgmq.drop_queue('part-dash');
SELECT count(*) AS config_rows FROM partman_test.part_config WHERE parent_table LIKE 'pgmq.%part-dash';
SELECT count(*) AS tables FROM pg_class WHERE relname LIKE '%part-dash%';

-- Deprecated forms on partitioned queues: WARNING, then the current behaviour.
SELECT pgmq.detach_archive('part_t');
SELECT count(*) AS a_members FROM pg_depend WHERE objid = 'pgmq.a_part_t'::regclass AND deptype = 'e';
SELECT pgmq.drop_queue('part_t', true);
SELECT pgmq.drop_queue('part_w', false);
SELECT count(*) AS config_rows FROM partman_test.part_config WHERE parent_table LIKE 'pgmq.%part_t' OR parent_table LIKE 'pgmq.%part_w';
SELECT count(*) AS templates FROM pg_class
 WHERE relnamespace = 'partman_test'::regnamespace AND relname ~ '^template_pgmq_[qa]_part_[tw]$';
SELECT pgmq.drop_queue('part_t', true);

-- convert_archive_partitioned: the rows move into the partitioned archive.
SELECT pgmq.create('part_c');
SELECT count(*) FROM pgmq.send_batch('part_c', ARRAY(SELECT jsonb_build_object('c', g) FROM generate_series(1, 45) g));
SELECT count(*) FROM pgmq.read('part_c', 0, 5);
SELECT count(*) FROM pgmq.archive('part_c', ARRAY(SELECT generate_series(1, 30, 3)::bigint));
CREATE TEMP TABLE part_c_before AS SELECT * FROM pgmq.a_part_c;
SELECT pg_temp.err($$SELECT pgmq.convert_archive_partitioned(NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.convert_archive_partitioned('no_such_queue')$$);
SELECT pg_temp.err($$SELECT pgmq.convert_archive_partitioned('part_c', '10', '1 day')$$);
SELECT pg_temp.err($$SELECT pgmq.convert_archive_partitioned('part_c', '10', '100', 0)$$);
SELECT pgmq.convert_archive_partitioned('part_c', '10', '1000', 2);
SELECT relkind, pg_get_partkeydef('pgmq.a_part_c'::regclass) FROM pg_class WHERE oid = 'pgmq.a_part_c'::regclass;
SELECT (SELECT count(*) FROM part_c_before) AS before,
       (SELECT count(*) FROM pgmq.a_part_c) AS after,
       (SELECT count(*) FROM (SELECT * FROM part_c_before EXCEPT SELECT * FROM pgmq.a_part_c) d) AS differing;
SELECT * FROM pg_temp.children('pgmq.a_part_c') ORDER BY length(bound), bound;
SELECT count(*) FROM pgmq.archive('part_c', ARRAY(SELECT generate_series(31, 45)::bigint));
SELECT count(*) AS in_default FROM pgmq.a_part_c_default;
SELECT count(*) AS archived FROM pgmq.a_part_c;
SELECT pgmq.convert_archive_partitioned('part_c');   -- already partitioned: NOTICE
SELECT queue_name, is_partitioned FROM pgmq.list_queues() WHERE queue_name = 'part_c';
SELECT pgmq.drop_queue('part_c');
SELECT count(*) AS config_rows FROM partman_test.part_config WHERE parent_table LIKE 'pgmq.%part_c';

-- A sub-partitioning row for the queue (as pg_partman's create_sub_parent
-- makes) goes with it too.
INSERT INTO partman_test.part_config_sub (sub_parent, sub_partition_type, sub_control, sub_partition_interval)
VALUES ('pgmq.q_part_q', 'native', 'msg_id', '5');
SELECT count(*) AS sub_rows FROM partman_test.part_config_sub;

-- Clean up.
-- issue 16: a partitioned queue's retention is pg_partman's, set_retention says so
SELECT pg_temp.err($$SELECT pgmq.set_retention('part_q', '1 hour', NULL)$$);
SELECT pg_temp.err($$SELECT pgmq.set_retention('part_q', NULL, NULL)$$);
SELECT pgmq.drop_queue('part_q'), pgmq.drop_queue('part_plain');
SELECT count(*) AS config_rows, (SELECT count(*) FROM partman_test.part_config_sub) AS sub_rows
  FROM partman_test.part_config;
SELECT relname AS leftover FROM pg_class WHERE relname ~ '^(q|a|template_pgmq_q|template_pgmq_a)_part';
DROP EXTENSION pg_partman;
DROP SCHEMA partman_test;
