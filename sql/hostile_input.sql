-- hostile_input: a corpus of bad queue names through every function that
-- takes one, NULL in every argument of every function, and extreme numbers
-- in every numeric argument.  The functions come from the catalog (every
-- function of the extension), so a function added later is covered without
-- touching this file: its line appears in the output.  Each call gets a
-- clear error or a correct result, and the catalog and the queues are the
-- same afterwards.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse
SET statement_timeout = '20s';   -- a call that hangs fails the test instead of the run

SELECT pgmq.create('good');
SELECT count(*) FROM pgmq.send_batch('good', ARRAY['{"keep": 1}', '{"keep": 2}']::jsonb[]);
SELECT pgmq.archive('good', 1::bigint);

-- err(sql): run sql; 'ok' or 'SQLSTATE: message'.  A call that succeeds is kept.
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- try(sql): like err, but every effect of the call is rolled back.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RAISE EXCEPTION 'rollback' USING ERRCODE = 'U0001';
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE = 'U0001' THEN
        RETURN 'ok';
    END IF;
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Everything a call could change: relations outside the system schemas,
-- meta rows, and the contents of the good queue and its archive.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
    SELECT (SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY n.nspname, c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
               AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%')
        || ' | ' || (SELECT string_agg(format('%s/%s/%s', queue_name, is_partitioned, is_unlogged), ','
                                       ORDER BY queue_name) FROM pgmq.meta)
        || ' | ' || (SELECT md5(string_agg(format('%s/%s/%s/%s/%s/%s', msg_id, read_ct, enqueued_at,
                                                  last_read_at, vt, message), ',' ORDER BY msg_id))
                       FROM pgmq.q_good)
        || ' | ' || (SELECT md5(string_agg(format('%s/%s', msg_id, message), ',' ORDER BY msg_id))
                       FROM pgmq.a_good)
        || ' | ' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
$$;

-- The API under test: every function of the extension with its input
-- arguments (position, name, type).
CREATE VIEW pg_temp.api_args AS
SELECT p.oid AS fn, a.pos, a.name, a.type
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmq'
  CROSS JOIN LATERAL (
    SELECT row_number() OVER (ORDER BY t.n) AS pos, p.proargnames[t.n] AS name, t.type
      FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS t(type, n)
     WHERE p.proargmodes IS NULL OR p.proargmodes[t.n] IN ('i', 'b', 'v')
  ) a;

CREATE VIEW pg_temp.api AS
SELECT p.oid AS fn, p.oid::regprocedure::text AS signature
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pgmq'
 WHERE p.proname NOT LIKE '\_%'                 -- internal helpers (pgmq._*) are not client API
   AND p.prorettype <> 'trigger'::regtype;      -- nor are trigger functions

-- A valid value for an argument, as a typed SQL literal.  Names first (a
-- new function's arguments mostly share these names), then types.
CREATE FUNCTION pg_temp.sample(name text, type oid) RETURNS text LANGUAGE sql AS $$
    SELECT '(' || CASE
        WHEN name = 'queue_name' THEN '''good'''
        WHEN name = 'queue_names' THEN '''{good}'''
        WHEN name IN ('vt', 'delay', 'max_poll_seconds') AND type = 'integer'::regtype THEN '0'
        WHEN name = 'poll_interval_ms' THEN '10'
        WHEN name = 'prefix' THEN '''q'''
        WHEN name = 'routing_key' THEN '''good.key'''
        WHEN name = 'pattern' THEN '''good.*'''
        WHEN name = 'table_name' THEN '''a_good'''
        WHEN name = 'partition_interval' THEN '''10000'''
        WHEN name = 'retention_interval' THEN '''100000'''
        WHEN type IN ('integer'::regtype, 'bigint'::regtype, 'smallint'::regtype) THEN '1'
        WHEN type = 'bigint[]'::regtype THEN '''{1}'''
        WHEN type = 'jsonb'::regtype THEN '''{}'''
        WHEN type = 'jsonb[]'::regtype THEN '''{"{}"}'''
        WHEN type = 'timestamp with time zone'::regtype THEN 'pg_catalog.now()'
        WHEN type = 'boolean'::regtype THEN 'false'
        WHEN type = 'text'::regtype THEN '''good'''
        ELSE 'NULL'
    END || ')::' || format_type(type, NULL)
$$;

-- The SQL calling fn with sample values, argument pos replaced by literal lit.
CREATE FUNCTION pg_temp.call(fn oid, pos bigint, lit text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT * FROM %I.%I(%s)', n.nspname, p.proname,
                  coalesce((SELECT string_agg(CASE WHEN a.pos = call.pos
                                                   THEN '(' || lit || ')::' || format_type(a.type, NULL)
                                                   ELSE pg_temp.sample(a.name, a.type) END,
                                              ', ' ORDER BY a.pos)
                              FROM pg_temp.api_args a WHERE a.fn = call.fn), ''))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.oid = fn
$$;

SELECT pg_temp.state() AS before \gset

-- Sanity: with sample values every function works (so the errors below are
-- caused by the bad argument, not by the samples).  Rolled back.
SET client_min_messages = error;
SELECT signature, pg_temp.try(pg_temp.call(fn, 0, NULL)) AS with_samples
  FROM pg_temp.api ORDER BY signature;
RESET client_min_messages;

-- 1. Bad queue names --------------------------------------------------------
CREATE TEMP TABLE bad_names (name text);
INSERT INTO bad_names VALUES
    (''), (' '), ('  '), ('has space'), (' lead'), ('trail '),
    ('semi;colon'), ('x;DROP TABLE pgmq.meta'), ('quote''s'), ('x''); DROP TABLE pgmq.meta; --'),
    ('dq"uote'), ('x"; DROP TABLE pgmq.meta; --'), ('good"; DROP TABLE pgmq.q_good; --'),
    ('dollar$'), ('$$'), ('$1'), ('$q$x$q$'), (E'back\\slash'), (E'\\x00'), ('slash/'),
    ('dot.name'), ('pgmq.meta'), ('public.good'), ('star*'), ('percent%'), ('under_%'),
    ('paren('), ('comma,x'), ('colon:x'), ('cast::text'), ('equals='), ('plus+'), ('hash#'),
    ('at@'), ('bang!'), ('question?'), ('amp&'), ('pipe|'), ('tilde~'), ('backtick`'),
    ('bracket[0]'), ('brace{}'), ('lt<gt>'), ('/* c */x'), ('caret^'),
    (E'tab\tx'), (E'nl\nx'), (E'cr\rx'), (E'\x01ctl'), (E'\x1b[31mred'), (E'del\x7f'),
    ('ünïcödé'), ('emoji😀'), ('ｆｕｌｌｗｉｄｔｈ'), ('кириллица'), ('İstanbul'), ('straße'),
    (E'zero\u200bwidth'), (E'no\u00a0break'), (E'rtl\u202eoverride'), (E'e\u0301'),
    (repeat('a', 48)), (repeat('a', 63)), (repeat('a', 64)), (repeat('a', 1000)),
    (repeat('é', 24)), (repeat('é', 23)), ('a' || repeat('B', 47)), (NULL);

SELECT count(*) AS bad_names_tried FROM bad_names;
SET client_min_messages = error;   -- no deprecation WARNINGs from drop_queue(text, boolean)

-- Every argument that names a queue, every bad name: a class-42 error
-- (22004 for NULL; redrive's queue_name alone takes NULL, documented as
-- "back to the queue each message came from"), or P0001 where pgmq 1.11
-- raises for that name itself (over 47 characters, or $ ; -- '; and NULL
-- or '' for bind_topic/unbind_topic), which clients catch.  "unexpected"
-- lists any other outcome.
CREATE FUNCTION pg_temp.refused(signature text, bad text, res text, null_means_default boolean)
RETURNS boolean LANGUAGE sql AS $$
    SELECT res ~ '^42'
        OR (bad IS NULL AND (res ~ '^22004' OR null_means_default))
        OR (res ~ '^P0001' AND (length(bad) > 47 OR bad ~ '\$|;|--|'''))
        OR (res ~ '^P0001' AND coalesce(bad, '') = ''
            AND signature IN ('pgmq.bind_topic(text,text)', 'pgmq.unbind_topic(text,text)'))
$$;
CREATE TEMP VIEW name_answers AS
SELECT s.signature, a.name AS arg, b.name AS bad,
       pg_temp.err(pg_temp.call(s.fn, a.pos, quote_nullable(b.name))) AS res,
       (s.signature, a.name) = ('pgmq.redrive(text,text,integer)', 'queue_name') AS null_means_default
  FROM pg_temp.api s
  JOIN pg_temp.api_args a ON a.fn = s.fn AND a.name IN ('queue_name', 'dead_letter_queue')
  CROSS JOIN bad_names b;
SELECT signature, arg, count(*) AS tried,
       count(*) FILTER (WHERE pg_temp.refused(signature, bad, res, null_means_default)) AS refused,
       coalesce(string_agg(format('%L => %s', bad, res), '; ')
                FILTER (WHERE NOT pg_temp.refused(signature, bad, res, null_means_default)), '') AS unexpected
  FROM name_answers
 GROUP BY signature, arg ORDER BY signature, arg;

-- The distinct answers (what a user sees).
SELECT DISTINCT regexp_replace(pg_temp.err(pg_temp.call('pgmq.send(text,jsonb)'::regprocedure, 1,
                                                       quote_nullable(name))),
                               '".*"', '"..."', 's') AS answer
  FROM bad_names ORDER BY 1;
RESET client_min_messages;

-- Odd but valid names ('-' and '_' anywhere, digits first, 47 characters)
-- work end to end: they are always quoted when they reach SQL.
SELECT name, pg_temp.err(format(
         'SELECT pgmq.create(%1$L); SELECT pgmq.send(%1$L, ''{"n": 1}''); '
         'SELECT pgmq.archive(%1$L, (SELECT msg_id FROM pgmq.read(%1$L, 0, 1)))', name)) AS used,
       (SELECT format('%s/%s', queue_length, total_messages) FROM pgmq.metrics(name)) AS length_total,
       pgmq.drop_queue(name) AS dropped
  FROM unnest(ARRAY['-', '_', '--', 'comment--x', '-x-', '0', '9lives', 'a-b_c', repeat('Z', 47)]) AS name;

-- Names that differ only by case are one queue: one meta row, one table pair.
SELECT pgmq.create('CaseQ');
SELECT pgmq.create('CASEQ');
SELECT pgmq.create_unlogged('caseq');   -- exists already: left as it is
SELECT count(*) AS meta_rows FROM pgmq.meta WHERE lower(queue_name) = 'caseq';
SELECT string_agg(relname, ',' ORDER BY relname) AS tables
  FROM pg_class WHERE relnamespace = 'pgmq'::regnamespace AND relkind = 'r' AND relname ILIKE '%caseq';
SELECT count(*) FROM pgmq.send('CASEQ', '{"via": "upper"}');
SELECT message FROM pgmq.read('caseq', 0, 5);
SELECT pgmq.drop_queue('cAsEq');
SELECT pgmq.drop_queue('caseq');

SET client_min_messages = error;
-- 2. NULL in every argument of every function ------------------------------
-- One line per function: each argument with the answer to a NULL there.
-- Rolled back, so a call that accepts NULL writes nothing lasting.
SELECT s.signature,
       string_agg(format('%s: %s', coalesce(a.name, '$' || a.pos),
                         split_part(pg_temp.try(pg_temp.call(s.fn, a.pos, 'NULL')), ' (', 1)),
                  ' | ' ORDER BY a.pos) AS null_in_each_argument
  FROM pg_temp.api s JOIN pg_temp.api_args a ON a.fn = s.fn
 GROUP BY s.signature ORDER BY s.signature;

-- 3. Extreme numbers and times in every numeric and time argument ----------
SELECT s.signature, coalesce(a.name, '$' || a.pos) AS arg,
       string_agg(format('%s: %s', v.val, split_part(pg_temp.try(pg_temp.call(s.fn, a.pos, v.val)), ':', 1)),
                  ' | ' ORDER BY v.n) AS answers
  FROM pg_temp.api s
  JOIN pg_temp.api_args a ON a.fn = s.fn
  JOIN LATERAL (SELECT * FROM unnest(CASE
        WHEN a.type = 'integer'::regtype THEN ARRAY['-2147483648', '-1', '0', '2147483647']
        WHEN a.type = 'bigint'::regtype THEN ARRAY['-9223372036854775808', '-1', '0', '9223372036854775807']
        WHEN a.type = 'bigint[]'::regtype THEN ARRAY['''{}''', '''{-1,0,9223372036854775807}''']
        WHEN a.type = 'timestamp with time zone'::regtype
             THEN ARRAY['''-infinity''', '''4713-01-01 BC''', '''294276-12-31''', '''infinity''']
       END) WITH ORDINALITY AS v(val, n)) v ON true
 GROUP BY s.signature, a.pos, a.name ORDER BY s.signature, a.pos;

RESET client_min_messages;

-- The results behind some of those "ok"s: huge vt hides for 68 years, a huge
-- qty reads what there is, a delay of infinity is never visible.
BEGIN;
SELECT count(*) AS read_huge_qty, bool_and(vt > now() + interval '68 years') AS hidden_68_years
  FROM pgmq.read('good', 2147483647, 2147483647);
SELECT count(*) AS sent FROM pgmq.send('good', '{"never": true}', 'infinity'::timestamptz);
SELECT count(*) AS visible_never FROM pgmq.read('good', 0, 10, '{"never": true}');
SELECT count(*) AS popped_huge_qty FROM pgmq.pop('good', 2147483647);
ROLLBACK;

-- Nothing of the above changed anything.
SELECT pg_temp.state() = :'before' AS unchanged;
SELECT msg_id, message FROM pgmq.q_good ORDER BY msg_id;
SELECT pgmq.drop_queue('good');
