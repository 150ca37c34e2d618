-- bad_input: every kind of bad argument gets a clear error with an SQLSTATE
-- and changes nothing (no table, no meta row, no message).
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

SELECT pgmq.create('good');
SELECT pgmq.send('good', '{"keep": true}');

-- snapshot of everything pgmq owns, to compare before and after
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') || ' | ' ||
           (SELECT coalesce(string_agg(queue_name, ',' ORDER BY queue_name), '') FROM pgmq.meta) || ' | ' ||
           (SELECT count(*) FROM pgmq.q_good)::text
      FROM pg_class WHERE relnamespace = 'pgmq'::regnamespace AND relkind IN ('r', 'p', 'i', 'S')
$$;

SELECT pg_temp.state() AS before \gset

-- names
SELECT name, pg_temp.err(format('SELECT pgmq.create(%L)', name)) AS create_error
  FROM unnest(ARRAY[
    '', ' ', 'has space', 'semi;colon', 'quote''s', 'dq"uote', 'dollar$',
    'slash/', 'back\slash', 'dot.name', 'star*', 'tab	x', 'ünïcödé', 'emoji😀',
    'x); DROP TABLE pgmq.meta; --', 'a' || repeat('b', 47)]) AS name;
SELECT pg_temp.err('SELECT pgmq.create(NULL)');
SELECT pg_temp.err(format('SELECT pgmq.create(%L)', repeat('a', 48)));
SELECT pg_temp.err(format('SELECT pgmq.create(%L)', repeat('a', 47))) AS exactly_47;
SELECT pgmq.drop_queue(repeat('a', 47));

-- unknown queues: every function that takes one names it
SELECT f, pg_temp.err(f) FROM unnest(ARRAY[
    'SELECT pgmq.send(''nope'', ''{}'')',
    'SELECT pgmq.send_batch(''nope'', ARRAY[''{}'']::jsonb[])',
    'SELECT pgmq.read(''nope'', 1, 1)',
    'SELECT pgmq.read_with_poll(''nope'', 1, 1, 0)',
    'SELECT pgmq.pop(''nope'')',
    'SELECT pgmq.set_vt(''nope'', 1, 0)',
    'SELECT pgmq.delete(''nope'', 1)',
    'SELECT pgmq.delete(''nope'', ARRAY[1]::bigint[])',
    'SELECT pgmq.archive(''nope'', 1)',
    'SELECT pgmq.archive(''nope'', ARRAY[1]::bigint[])',
    'SELECT pgmq.purge_queue(''nope'')',
    'SELECT pgmq.metrics(''nope'')',
    'SELECT pgmq.detach_archive(''nope'')']) AS f;

-- NULL in every argument
SELECT f, pg_temp.err(f) FROM unnest(ARRAY[
    'SELECT pgmq.send(NULL, ''{}'')',
    'SELECT pgmq.send(''good'', NULL)',
    'SELECT pgmq.send(''good'', ''{}'', NULL::integer)',
    'SELECT pgmq.send(''good'', ''{}'', NULL::timestamptz)',
    'SELECT pgmq.send(''good'', ''{}'', ''{}''::jsonb, NULL::integer)',
    'SELECT pgmq.send(''good'', ''{}'', ''{}''::jsonb, NULL::timestamptz)',
    'SELECT pgmq.send_batch(''good'', NULL)',
    'SELECT pgmq.send_batch(''good'', ARRAY[''{}'', NULL]::jsonb[])',
    'SELECT pgmq.send_batch(''good'', ARRAY[''{}'']::jsonb[], NULL::integer)',
    'SELECT pgmq.read(''good'', NULL, 1)',
    'SELECT pgmq.read(''good'', 1, NULL)',
    'SELECT pgmq.read(''good'', 1, 1, NULL)',
    'SELECT pgmq.read_with_poll(''good'', 1, 1, NULL)',
    'SELECT pgmq.read_with_poll(''good'', 1, 1, 1, NULL)',
    'SELECT pgmq.pop(''good'', NULL)',
    'SELECT pgmq.set_vt(''good'', NULL::bigint, 0)',
    'SELECT pgmq.set_vt(''good'', 1, NULL::integer)',
    'SELECT pgmq.set_vt(''good'', 1, NULL::timestamptz)',
    'SELECT pgmq.set_vt(''good'', NULL::bigint[], 0)',
    'SELECT pgmq.set_vt(''good'', ARRAY[1, NULL]::bigint[], 0)',
    'SELECT pgmq.delete(''good'', NULL::bigint)',
    'SELECT pgmq.delete(''good'', NULL::bigint[])',
    'SELECT pgmq.delete(''good'', ARRAY[NULL]::bigint[])',
    'SELECT pgmq.archive(''good'', NULL::bigint)',
    'SELECT pgmq.archive(''good'', NULL::bigint[])',
    'SELECT pgmq.purge_queue(NULL)',
    'SELECT pgmq.metrics(NULL)',
    'SELECT pgmq.drop_queue(NULL)',
    'SELECT pgmq.validate_queue_name(NULL)',
    'SELECT pgmq.format_table_name(''good'', NULL)',
    'SELECT pgmq.acquire_queue_lock(NULL)']) AS f;

-- negative, zero and malformed numbers and arrays
SELECT f, pg_temp.err(f) FROM unnest(ARRAY[
    'SELECT pgmq.send(''good'', ''{}'', -1)',
    'SELECT pgmq.send_batch(''good'', ARRAY[''{}'']::jsonb[], -5)',
    'SELECT pgmq.read(''good'', -1, 1)',
    'SELECT pgmq.read(''good'', 10, 0)',
    'SELECT pgmq.read(''good'', 10, -3)',
    'SELECT pgmq.read_with_poll(''good'', 10, 1, -1)',
    'SELECT pgmq.read_with_poll(''good'', 10, 1, 1, 0)',
    'SELECT pgmq.pop(''good'', 0)',
    'SELECT pgmq.set_vt(''good'', 1, -10)',
    'SELECT pgmq.send_batch(''good'', ARRAY[]::jsonb[])',
    'SELECT pgmq.send_batch(''good'', ARRAY[[''{}'']]::jsonb[])',
    'SELECT pgmq.send_batch(''good'', ARRAY[''{}'', ''{}'']::jsonb[], ARRAY[''{}'']::jsonb[])',
    'SELECT pgmq.send_batch(''good'', ARRAY[''{}'']::jsonb[], ARRAY[]::jsonb[])',
    'SELECT pgmq.delete(''good'', ARRAY[[1], [2]]::bigint[])',
    'SELECT pgmq.send(''good'', ''{not json'')',
    'SELECT pgmq.format_table_name(''good'', ''q;'')']) AS f;

-- hostile names never reach SQL: the catalog and the queue are unchanged
SELECT pg_temp.state() = :'before' AS unchanged;
SELECT message FROM pgmq.q_good;
SELECT pgmq.drop_queue('good');
