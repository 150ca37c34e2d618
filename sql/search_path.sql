-- search_path: hostile objects where a caller's search_path reaches change
-- nothing any pgmq function does.  Planted: functions shadowing the
-- built-ins pgmq uses (public.now() and others), operators on jsonb,
-- bigint, integer and timestamptz in public, tables named like queue tables
-- and like pgmq.meta in public and in pg_temp.  Every planted function logs
-- its call; the same workload runs under a clean search_path and under
-- hostile ones (public before pg_catalog, pg_temp first) and must give the
-- same results with an empty log.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

CREATE TABLE public.hostile_log (what text);

-- Functions that shadow built-ins: log, then return something wrong.
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('now()'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('clock_timestamp()'); RETURN '2000-01-01'; END $$;
CREATE FUNCTION public.unnest(jsonb[]) RETURNS SETOF jsonb LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('unnest(jsonb[])'); RETURN NEXT '{"evil": true}'::jsonb; END $$;
CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('count()'); RETURN 42; END $$;
CREATE FUNCTION public.pg_get_serial_sequence(text, text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('pg_get_serial_sequence()'); RETURN NULL; END $$;
CREATE FUNCTION public.pg_sequence_last_value(regclass) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('pg_sequence_last_value()'); RETURN -1; END $$;
CREATE FUNCTION public.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('pg_advisory_xact_lock()'); END $$;

-- Operators with exactly the argument types pgmq's statements use.
CREATE FUNCTION public.evil_contains(jsonb, jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('jsonb @> jsonb'); RETURN true; END $$;
CREATE OPERATOR public.@> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.evil_contains);
CREATE FUNCTION public.evil_jsonb_eq(jsonb, jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('jsonb = jsonb'); RETURN true; END $$;
CREATE OPERATOR public.= (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.evil_jsonb_eq);
CREATE FUNCTION public.evil_concat(jsonb, jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('jsonb || jsonb'); RETURN '{"evil": true}'; END $$;
CREATE OPERATOR public.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = public.evil_concat);
CREATE FUNCTION public.evil_int8_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('bigint = bigint'); RETURN true; END $$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.evil_int8_eq);
CREATE FUNCTION public.evil_int4_plus(integer, integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('integer + integer'); RETURN 1000; END $$;
CREATE OPERATOR public.+ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.evil_int4_plus);
CREATE FUNCTION public.evil_ts_le(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('timestamptz <= timestamptz'); RETURN true; END $$;
CREATE OPERATOR public.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.evil_ts_le);
CREATE FUNCTION public.evil_ts_minus(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('timestamptz - timestamptz'); RETURN '1000 years'; END $$;
CREATE OPERATOR public.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.evil_ts_minus);
CREATE FUNCTION public.evil_text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('text = text'); RETURN true; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.evil_text_eq);
-- A type named text ahead of pg_catalog: on a hostile path an unqualified
-- ::text cast is a cast to this domain, whose check logs.
CREATE FUNCTION public.evil_text_check(pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.hostile_log VALUES ('::text'); RETURN true; END $$;
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.evil_text_check(VALUE));

-- Tables named like pgmq's, in public and in pg_temp.
CREATE TABLE public.meta (queue_name varchar, is_partitioned boolean, is_unlogged boolean,
                          created_at timestamptz);
CREATE TEMP TABLE meta (queue_name varchar, is_partitioned boolean, is_unlogged boolean,
                        created_at timestamptz);
CREATE FUNCTION pg_temp.shadow_queue_tables(q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE public.%I (msg_id bigint, read_ct int, enqueued_at timestamptz,
                    last_read_at timestamptz, vt timestamptz, message jsonb, headers jsonb)', 'q_' || q);
    EXECUTE format('CREATE TEMP TABLE %I (msg_id bigint, read_ct int, enqueued_at timestamptz,
                    last_read_at timestamptz, vt timestamptz, message jsonb, headers jsonb)', 'q_' || q);
    EXECUTE format('CREATE TEMP TABLE %I (msg_id bigint, read_ct int, enqueued_at timestamptz,
                    last_read_at timestamptz, archived_at timestamptz, vt timestamptz,
                    message jsonb, headers jsonb)', 'a_' || q);
END $$;
SELECT pg_temp.shadow_queue_tables(q) FROM unnest(ARRAY['sp_clean', 'sp_public', 'sp_temp']) q;

-- What each run observed (written with pgmq's results only: no operators).
CREATE TABLE public.obs (run text, step text, msg_id bigint, read_ct int, enqueued_at timestamptz,
                         vt timestamptz, message jsonb, headers jsonb, n bigint, seen_at timestamptz);

-- The workload: every function once, on a fresh queue.  Plain SQL calling
-- pgmq only, so the caller's search_path is the one pgmq runs under (plans
-- are built on first use, so they are built under that path too).
CREATE FUNCTION pg_temp.workload(q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pgmq.create(q);
    INSERT INTO public.obs (run, step, msg_id) SELECT q, '1 send', s FROM pgmq.send(q, '{"k": "a"}') s;
    INSERT INTO public.obs (run, step, msg_id) SELECT q, '2 send', s FROM pgmq.send(q, '{"k": "b"}', '{"h": 1}'::jsonb) s;
    INSERT INTO public.obs (run, step, msg_id) SELECT q, '3 send delayed', s FROM pgmq.send(q, '{"k": "c"}', 3600) s;
    INSERT INTO public.obs (run, step, msg_id)
        SELECT q, '4 send_batch', s FROM pgmq.send_batch(q, ARRAY['{"k": "d"}', '{"k": "e"}']::jsonb[]) s;
    INSERT INTO public.obs (run, step, msg_id, read_ct, enqueued_at, vt, message, headers, seen_at)
        SELECT q, '5 read conditional', msg_id, read_ct, enqueued_at, vt, message, headers, pg_catalog.clock_timestamp()
          FROM pgmq.read(q, 600, 10, '{"k": "b"}');
    INSERT INTO public.obs (run, step, msg_id, read_ct, enqueued_at, vt, message, headers, seen_at)
        SELECT q, '6 read', msg_id, read_ct, enqueued_at, vt, message, headers, pg_catalog.clock_timestamp()
          FROM pgmq.read(q, 0, 2);
    INSERT INTO public.obs (run, step, msg_id, read_ct, vt, message)
        SELECT q, '7 set_vt', msg_id, read_ct, vt, message FROM pgmq.set_vt(q, 2::bigint, 0);
    INSERT INTO public.obs (run, step, msg_id, read_ct, message)
        SELECT q, '8 pop', msg_id, read_ct, message FROM pgmq.pop(q, 1);
    INSERT INTO public.obs (run, step, message) SELECT q, '9 delete', to_jsonb(pgmq.delete(q, 1::bigint));
    INSERT INTO public.obs (run, step, message) SELECT q, '10 archive', to_jsonb(pgmq.archive(q, 2::bigint));
    INSERT INTO public.obs (run, step, msg_id) SELECT q, '11 delete many', d FROM pgmq.delete(q, ARRAY[5, 99]::bigint[]) d;
    INSERT INTO public.obs (run, step, message, n)
        SELECT q, '12 metrics', jsonb_build_array(queue_name, queue_length, queue_visible_length, total_messages,
                                                  newest_msg_age_sec, oldest_msg_age_sec), NULL
          FROM pgmq.metrics(q);
    INSERT INTO public.obs (run, step, message)
        SELECT q, '13 metrics_all', jsonb_build_array(queue_length, total_messages)
          FROM pgmq.metrics_all() m WHERE m.queue_name OPERATOR(pg_catalog.=) q;
    INSERT INTO public.obs (run, step, message)
        SELECT q, '14 list_queues', jsonb_build_array(queue_name, is_partitioned, is_unlogged)
          FROM pgmq.list_queues() l WHERE l.queue_name::pg_catalog.text OPERATOR(pg_catalog.=) q;
    INSERT INTO public.obs (run, step, msg_id, read_ct, message)
        SELECT q, '15 read_with_poll', msg_id, read_ct, message FROM pgmq.read_with_poll(q, 600, 10, 1, 10);
    INSERT INTO public.obs (run, step, n) SELECT q, '16 purge_queue', pgmq.purge_queue(q);
    INSERT INTO public.obs (run, step, message) SELECT q, '17 format_table_name', to_jsonb(pgmq.format_table_name(q, 'q'));
    PERFORM pgmq.validate_queue_name(q);
    PERFORM pgmq.acquire_queue_lock(q);
END $$;

-- The second workload: dead-letter queues, fifo, notify and the loops over
-- every queue (metrics_all, create_fifo_indexes_all), on a fresh pair of
-- queues; what it observed goes to public.obs2.
CREATE TABLE public.obs2 (run text, step text, msg_id bigint, read_ct int, message jsonb, n bigint);
CREATE FUNCTION pg_temp.workload2(q pg_catalog.text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    dlq pg_catalog.text := q OPERATOR(pg_catalog.||) '_dlq';
BEGIN
    PERFORM pgmq.create(q);
    PERFORM pgmq.create(dlq);
    PERFORM pgmq.set_dead_letter_queue(q, dlq, 1);
    PERFORM pgmq.enable_notify_insert(q, 0);
    PERFORM pgmq.send(q, '{"k": "poison"}');
    INSERT INTO public.obs2 (run, step, msg_id, read_ct)
        SELECT q, '1 read', msg_id, read_ct FROM pgmq.read(q, 0, 1);
    PERFORM pgmq.send(q, '{"k": "good"}');
    INSERT INTO public.obs2 (run, step, msg_id, read_ct, message)
        SELECT q, '2 read moves poison', msg_id, read_ct, message FROM pgmq.read(q, 0, 5);
    PERFORM pgmq.create_fifo_indexes_all();
    INSERT INTO public.obs2 (run, step, msg_id, read_ct, message)
        SELECT q, '3 read_grouped', msg_id, read_ct, message FROM pgmq.read_grouped(q, 0, 5);
    INSERT INTO public.obs2 (run, step, n)
        SELECT q, '4 metrics_all dead_lettered', m.dead_lettered
          FROM pgmq.metrics_all() m WHERE m.queue_name OPERATOR(pg_catalog.=) q;
    INSERT INTO public.obs2 (run, step, n) SELECT q, '5 redrive', pgmq.redrive(dlq);
    INSERT INTO public.obs2 (run, step, n)
        SELECT q, '6 stamped', pg_catalog.count(*) FROM pgmq.list_notify_insert_throttles() t
         WHERE t.queue_name OPERATOR(pg_catalog.=) q AND t.last_notified_at IS NOT NULL;
    PERFORM pgmq.disable_notify_insert(q);
    PERFORM pgmq.clear_dead_letter_queue(q);
    PERFORM pgmq.drop_queue(dlq);
    PERFORM pgmq.drop_queue(q);
END $$;

-- The plants work: unqualified SQL under a hostile path calls them.
SET search_path = public, pg_catalog;
SELECT now() < '2001-01-01' AS now_hijacked, '{"a": 1}'::jsonb @> '{"b": 2}' AS contains_hijacked,
       1::bigint = 2::bigint AS eq_hijacked, 1 + 1 AS plus_hijacked, 'x'::text = 'y' AS text_eq_hijacked;
RESET search_path;
SELECT string_agg(what, ', ' ORDER BY what) AS planted_calls_seen FROM public.hostile_log;
TRUNCATE public.hostile_log;

-- 1. clean search_path
SELECT pg_temp.workload('sp_clean');
-- 2. public before pg_catalog
SET search_path = public, pg_catalog;
SELECT pg_temp.workload('sp_public');
RESET search_path;
-- 3. pg_temp first, then public, then pg_catalog
SET search_path = pg_temp, public, pg_catalog;
SELECT pg_temp.workload('sp_temp');
-- and the plans kept from run 3 are used again under it: a second round on the queue
SELECT count(*) FROM pgmq.send('sp_temp', '{"k": "again"}');
SELECT message FROM pgmq.read('sp_temp', 0, 5, '{"k": "again"}');
SELECT message FROM pgmq.pop('sp_temp');
RESET search_path;

-- The second workload, under each path (plans built under the hostile
-- ones are used again by the next run: the queue names differ, the
-- module-level plans do not).
SELECT pg_temp.workload2('sp2_clean');
SET search_path = public, pg_catalog;
SELECT pg_temp.workload2('sp2_public');
RESET search_path;
SET search_path = pg_temp, public, pg_catalog;
SELECT pg_temp.workload2('sp2_temp');
RESET search_path;
SELECT run, step, msg_id, read_ct, message, n FROM public.obs2
 ORDER BY step COLLATE "C", run COLLATE "C", msg_id;

-- No planted object was ever called.
SELECT count(*) AS hostile_calls, string_agg(DISTINCT what, ', ') AS which FROM public.hostile_log;

-- The three runs observed the same thing.
SELECT pg_catalog.count(DISTINCT digest) AS distinct_outcomes, pg_catalog.count(*) AS runs
  FROM (SELECT run, string_agg(format('%s|%s|%s|%s|%s|%s', step, msg_id, read_ct, message, headers, n), ';'
                               ORDER BY step COLLATE "C", msg_id) AS digest
          FROM public.obs
         WHERE step NOT IN ('12 metrics', '14 list_queues', '17 format_table_name')   -- these name the queue
         GROUP BY run) d;
SELECT step, msg_id, read_ct, message, headers, n FROM public.obs WHERE run = 'sp_clean' ORDER BY step COLLATE "C", msg_id;
SELECT run, step, message FROM public.obs
 WHERE step IN ('12 metrics', '13 metrics_all', '14 list_queues', '17 format_table_name')
 ORDER BY run, step COLLATE "C";
-- Times came from pg_catalog: enqueued now, hidden for the vt asked for.
SELECT run, step, msg_id,
       enqueued_at BETWEEN pg_catalog.now() - interval '5 minutes' AND pg_catalog.now() AS enqueued_now,
       vt BETWEEN seen_at + interval '590 seconds' AND seen_at + interval '600 seconds' AS hidden_600s
  FROM public.obs WHERE step = '5 read conditional' ORDER BY run;

-- The shadow tables were never touched.
SELECT (SELECT count(*) FROM public.meta) AS public_meta, (SELECT count(*) FROM pg_temp.meta) AS temp_meta,
       (SELECT count(*) FROM public.q_sp_clean) + (SELECT count(*) FROM public.q_sp_public)
         + (SELECT count(*) FROM public.q_sp_temp) AS public_q,
       (SELECT count(*) FROM pg_temp.q_sp_clean) + (SELECT count(*) FROM pg_temp.q_sp_public)
         + (SELECT count(*) FROM pg_temp.q_sp_temp) AS temp_q,
       (SELECT count(*) FROM pg_temp.a_sp_clean) + (SELECT count(*) FROM pg_temp.a_sp_public)
         + (SELECT count(*) FROM pg_temp.a_sp_temp) AS temp_a;
-- And the real ones were used: one archived message per queue.
SELECT (SELECT count(*) FROM pgmq.a_sp_clean) AS a_clean, (SELECT count(*) FROM pgmq.a_sp_public) AS a_public,
       (SELECT count(*) FROM pgmq.a_sp_temp) AS a_temp;

-- drop_queue under the hostile path drops pgmq's tables, not the shadows.
SET search_path = pg_temp, public, pg_catalog;
SELECT pgmq.drop_queue('sp_clean'), pgmq.drop_queue('sp_public'), pgmq.drop_queue('sp_temp');
RESET search_path;
SELECT count(*) AS hostile_calls FROM public.hostile_log;
SELECT count(*) AS pgmq_tables_left FROM pg_class
 WHERE relnamespace = 'pgmq'::regnamespace AND relname LIKE '%sp\_%';
SELECT count(*) AS shadow_tables_left FROM pg_class
 WHERE relname IN ('q_sp_clean', 'q_sp_public', 'q_sp_temp', 'a_sp_clean', 'a_sp_public', 'a_sp_temp');

DROP TABLE public.obs, public.meta, public.q_sp_clean, public.q_sp_public, public.q_sp_temp;
DROP OPERATOR public.@> (jsonb, jsonb);
DROP OPERATOR public.= (jsonb, jsonb);
DROP OPERATOR public.|| (jsonb, jsonb);
DROP OPERATOR public.= (bigint, bigint);
DROP OPERATOR public.+ (integer, integer);
DROP OPERATOR public.<= (timestamptz, timestamptz);
DROP OPERATOR public.- (timestamptz, timestamptz);
DROP OPERATOR public.= (text, text);
DROP DOMAIN public.text;
DROP FUNCTION public.evil_text_check(pg_catalog.text);
DROP TABLE public.obs2;
DROP FUNCTION public.now(), public.clock_timestamp(), public.unnest(jsonb[]), public.count(anyelement),
    public.pg_get_serial_sequence(text, text), public.pg_sequence_last_value(regclass),
    public.pg_advisory_xact_lock(bigint), public.evil_contains(jsonb, jsonb),
    public.evil_jsonb_eq(jsonb, jsonb), public.evil_concat(jsonb, jsonb), public.evil_int8_eq(bigint, bigint),
    public.evil_int4_plus(integer, integer), public.evil_ts_le(timestamptz, timestamptz),
    public.evil_ts_minus(timestamptz, timestamptz), public.evil_text_eq(text, text);
DROP TABLE public.hostile_log;
