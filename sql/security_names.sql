-- security_names: a queue name read back from a table passes the same rule
-- as a name passed as an argument (issue 11).  A role with the privileges
-- the extension owner has (CREATE on schema pgmq, INSERT and UPDATE on
-- pgmq.meta) plants a hostile name, a view posing as a queue table and a
-- function; metrics_all and create_fifo_indexes_all run by a superuser must
-- never call the function.  Renaming a queue in pgmq.meta to a bad name is
-- refused; a bad name that got in with triggers bypassed is skipped with a
-- WARNING.
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

-- Who ran the planted function, as whom.
CREATE TABLE public.sec_planted_log (run_as text);
GRANT INSERT, SELECT ON public.sec_planted_log TO PUBLIC;

CREATE ROLE regress_sec_maker;
GRANT CREATE ON SCHEMA pgmq TO regress_sec_maker;
GRANT INSERT, UPDATE, DELETE ON pgmq.meta TO regress_sec_maker;

SELECT pgmq.create('sec_good');
SELECT pgmq.send('sec_good', '{"n": 1}');

SET ROLE regress_sec_maker;
CREATE FUNCTION pgmq.sec_planted() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'planted function runs as %', current_user;
    INSERT INTO public.sec_planted_log VALUES (current_user);
    RETURN 'x';
END $$;
SELECT pgmq.create('sec_evil');
-- 1. rename the queue in pgmq.meta to a name that breaks out of a literal
SELECT pg_temp.err($q$UPDATE pgmq.meta SET queue_name = 'x''||pgmq.sec_planted()||''' WHERE queue_name = 'sec_evil'$q$);
SELECT pg_temp.err($q$UPDATE pgmq.meta SET queue_name = 'a b' WHERE queue_name = 'sec_evil'$q$);
SELECT pg_temp.err($q$UPDATE pgmq.meta SET queue_name = NULL WHERE queue_name = 'sec_evil'$q$);
-- a valid new name is fine (and is put back)
SELECT pg_temp.err($q$UPDATE pgmq.meta SET queue_name = 'sec_evil2' WHERE queue_name = 'sec_evil'$q$);
UPDATE pgmq.meta SET queue_name = 'sec_evil' WHERE queue_name = 'sec_evil2';
CREATE TABLE pgmq."q_x'||pgmq.sec_planted()||'" (
    msg_id bigint GENERATED ALWAYS AS IDENTITY, read_ct int, enqueued_at timestamptz,
    last_read_at timestamptz, vt timestamptz, message jsonb, headers jsonb);
-- 2. a view posing as a queue table
CREATE VIEW pgmq.q_sec_view AS
    SELECT 1::bigint AS msg_id, 0 AS read_ct, now() AS enqueued_at, now() AS last_read_at,
           now() AS vt, to_jsonb(pgmq.sec_planted()) AS message, NULL::jsonb AS headers;
INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged) VALUES ('sec_view', false, false);
RESET ROLE;
SELECT queue_name FROM pgmq.meta WHERE queue_name LIKE 'sec%' OR queue_name LIKE 'x%' ORDER BY 1;

-- 3. a bad name that got into pgmq.meta with the triggers bypassed
SET session_replication_role = replica;
INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged)
VALUES ($q$y'||pgmq.sec_planted()||'$q$, false, false);
RESET session_replication_role;
CREATE TABLE pgmq."q_y'||pgmq.sec_planted()||'" (
    msg_id bigint GENERATED ALWAYS AS IDENTITY, read_ct int, enqueued_at timestamptz,
    last_read_at timestamptz, vt timestamptz, message jsonb, headers jsonb);

-- The superuser's loops over queues skip what is planted, with a WARNING.
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics_all()
 WHERE queue_name LIKE 'sec%' OR queue_name LIKE '%planted%' ORDER BY 1;
SELECT pgmq.create_fifo_indexes_all();
-- The planted function never ran.
SELECT count(*) AS planted_calls, string_agg(run_as, ', ') AS run_as FROM public.sec_planted_log;
-- metrics of a real queue still counts every message sent (the sequence is
-- found from the table's OID)
SELECT queue_name, queue_length, total_messages FROM pgmq.metrics('sec_good');

-- clean up
DELETE FROM pgmq.meta WHERE queue_name IN ('sec_view', $q$y'||pgmq.sec_planted()||'$q$);
DROP VIEW pgmq.q_sec_view;
DROP TABLE pgmq."q_x'||pgmq.sec_planted()||'", pgmq."q_y'||pgmq.sec_planted()||'";
DROP FUNCTION pgmq.sec_planted();
SELECT pgmq.drop_queue('sec_good');
SET ROLE regress_sec_maker;
SELECT pgmq.drop_queue('sec_evil');
RESET ROLE;
REVOKE ALL ON SCHEMA pgmq FROM regress_sec_maker;
REVOKE ALL ON pgmq.meta FROM regress_sec_maker;
DROP ROLE regress_sec_maker;
DROP TABLE public.sec_planted_log;
