-- large_input: a 100 MB message, a send_batch of 100,000 messages and
-- malformed JSON.  Each gets a correct result or a clear error, and a
-- failing call writes nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT pgmq.create('big');

-- A 100 MB message goes in and comes back byte for byte (read, archive).
CREATE TEMP TABLE big_src AS
    SELECT jsonb_build_object('blob', repeat(md5('pgmq'), 100 * 1024 * 1024 / 32),
                              'tail', 'end') AS m;
SELECT octet_length(m::text) > 100 * 1024 * 1024 AS over_100mb FROM big_src;
SELECT count(*) AS sent FROM big_src, pgmq.send('big', big_src.m);
SELECT r.message = s.m AS same_message, octet_length(r.message->>'blob') AS blob_bytes
  FROM pgmq.read('big', 0, 1) r, big_src s;
SELECT pgmq.archive('big', 1::bigint);
SELECT a.message = s.m AS same_in_archive FROM pgmq.a_big a, big_src s;
DROP TABLE big_src;

-- A message over jsonb's size limit is refused by jsonb itself, before pgmq.
SELECT pg_temp.err($$SELECT pgmq.send('big', jsonb_build_object('a', repeat('x', 200 * 1024 * 1024),
                                                                 'b', repeat('y', 100 * 1024 * 1024)))$$)
       AS over_jsonb_limit;
SELECT count(*) AS messages_after_refusal FROM pgmq.q_big;

-- A send_batch of 100,000 messages: every message once, ids in input order.
CREATE TEMP TABLE batch_ids AS
    SELECT row_number() OVER () AS n, id
      FROM pgmq.send_batch('big', ARRAY(SELECT jsonb_build_object('n', i)
                                          FROM generate_series(1, 100000) i)) AS id;
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_ids,
       bool_and(id > 1) AS after_first
  FROM batch_ids;
SELECT count(*) AS in_order FROM batch_ids b1 JOIN batch_ids b2 ON b2.n = b1.n + 1 WHERE b2.id > b1.id;
SELECT count(*) AS stored, count(DISTINCT message->>'n') AS distinct_messages,
       bool_and((message->>'n')::bigint = b.n) AS message_matches_position
  FROM pgmq.q_big q JOIN batch_ids b ON b.id = q.msg_id;
SELECT pgmq.purge_queue('big');

-- A batch that fails part-way writes nothing: a NULL as the last of 100,000,
-- a headers array one short.
SELECT pg_temp.err($$SELECT pgmq.send_batch('big', ARRAY(SELECT jsonb_build_object('n', i)
                                                          FROM generate_series(1, 99999) i) || NULL::jsonb)$$)
       AS null_last;
SELECT pg_temp.err($$SELECT pgmq.send_batch('big', ARRAY(SELECT '{}'::jsonb FROM generate_series(1, 100000)),
                                            ARRAY(SELECT '{}'::jsonb FROM generate_series(1, 99999)))$$)
       AS headers_short;
SELECT count(*) AS messages_after_failed_batches FROM pgmq.q_big;

-- Malformed JSON from a client: refused by the jsonb input function with a
-- clear error, nothing written.
SELECT doc, pg_temp.err(format('SELECT pgmq.send(%L, %L)', 'big', doc)) AS send_error
  FROM unnest(ARRAY[
    '', ' ', '{', '}', '{"a": }', '{"a": 1,}', '[1, 2', '{"a" 1}', '{''a'': 1}', 'undefined',
    'NaN', 'Infinity', '01', '-', '1.', '.5', '+1', '"unterminated', E'"tab\tinside"', '"\u0000"', '"\ud800"',
    '"\x41"', '{"a": 1} trailing', '{"a": 1}{"b": 2}', '/* comment */ {}', 'tru', 'nul']) AS doc;
SELECT pg_temp.err(format('SELECT pgmq.send(%L, %L)', 'big', repeat('[', 100000)))
       AS deep_nesting;
SELECT pg_temp.err(format('SELECT pgmq.send_batch(%L, %L::jsonb[])', 'big', '{"{}", "{"}'))
       AS malformed_in_batch;
SELECT pg_temp.err(format('SELECT pgmq.send(%L, %L, %L::jsonb)', 'big', '{}', '{"h":'))
       AS malformed_headers;
SELECT count(*) AS messages_after_malformed FROM pgmq.q_big;
-- Valid but unusual JSON is stored as given: scalars, arrays, unicode, huge exponents.
CREATE TEMP TABLE unusual AS
SELECT m.n, m.doc, s.id
  FROM unnest(ARRAY['null', '0', '"text"', '[]', '[1, "two", null]', '{"ключ": "値", "emoji": "😀"}',
                    '"\u00e9"', '1e308', '1e99999', '{"a": {"b": {"c": [[[]]]}}}']) WITH ORDINALITY AS m(doc, n)
  CROSS JOIN LATERAL pgmq.send('big', m.doc::jsonb) AS s(id);
SELECT u.doc, q.message = u.doc::jsonb AS round_trip
  FROM unusual u JOIN pgmq.q_big q ON q.msg_id = u.id ORDER BY u.n;
SELECT count(*) AS stored FROM pgmq.q_big;
SELECT pgmq.drop_queue('big');
