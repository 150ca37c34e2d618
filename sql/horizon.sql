-- horizon: the read start position (docs/horizon.md) as SQL sees it.
-- pgmq._horizon_start() checks the caller's privileges and its argument;
-- the start moves past a consumed head and back for every writer, COPY FROM
-- included; reads keep their (vt, msg_id) order behind a moved start.
-- Needs pgmq preloaded (as every suite runs it).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
\set VERBOSITY terse

SELECT pgmq.create('hz');
-- a queue never read has no position
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass);
-- bad arguments: NULL gives NULL, an unknown OID an error
SELECT pgmq._horizon_start(NULL) IS NULL AS null_in_null_out;
SELECT pgmq._horizon_start(0);
-- a role without any privilege on the table may not ask
CREATE ROLE regress_pgmq_hz_nobody;
SET ROLE regress_pgmq_hz_nobody;
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass);
RESET ROLE;
DROP ROLE regress_pgmq_hz_nobody;
-- the setting is server-wide
SET pgmq.read_start_position = off;

-- consume a head, then a read moves the start past it
SELECT count(*) FROM pgmq.send_batch('hz', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[]);
SELECT count(pgmq.archive('hz', msg_id)) FROM pgmq.read('hz', 30, 2);
SELECT msg_id, message FROM pgmq.read('hz', 30, 5);
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass) > now() - interval '1 hour' AS advanced;

-- COPY FROM behind the start: readable at once, in (vt, msg_id) order
COPY pgmq.q_hz (vt, message) FROM stdin;
2000-01-01 00:00:02+00	{"copied": 2}
2000-01-01 00:00:01+00	{"copied": 1}
\.
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass);
SELECT msg_id, message FROM pgmq.read('hz', 30, 5);

-- sends into the past, in reverse order, come back in vt order
SELECT pgmq.archive('hz', ARRAY[4, 5]::bigint[]);
SELECT count(*) FROM pgmq.read('hz', 30, 5);
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass) > now() - interval '1 hour' AS advanced;
SELECT pgmq.send('hz', '{"past": 2}', now() - interval '1 minute');
SELECT pgmq.send('hz', '{"past": 1}', now() - interval '2 minutes');
SELECT msg_id, message FROM pgmq.read('hz', 30, 5);

-- a BEFORE ROW trigger may change the vt a send stated: not trusted
SELECT count(*) FROM pgmq.read('hz', 30, 5);
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass) > now() - interval '1 hour' AS advanced;
CREATE FUNCTION public.hz_backdate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.vt := NEW.vt - interval '1 day';
    RETURN NEW;
END $$;
CREATE TRIGGER hz_backdate BEFORE INSERT ON pgmq.q_hz
    FOR EACH ROW EXECUTE FUNCTION public.hz_backdate();
SELECT pgmq.send('hz', '{"backdated": 1}');
SELECT msg_id, message FROM pgmq.read('hz', 30, 5);
DROP TRIGGER hz_backdate ON pgmq.q_hz;
DROP FUNCTION public.hz_backdate();

-- sends with a dedup id state their vt as plain sends do: the start stays
-- (new id, repeated id, batch), and what they sent is read in order
SELECT count(*) FROM pgmq.read('hz', 30, 5);
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass) > now() - interval '1 hour' AS advanced;
SELECT pgmq.set_dedup_window('hz', 60);
SELECT pgmq.send('hz', '{"dd": 1}', '{"x-pgmq-dedup-id": "a"}'::jsonb) > 0 AS sent;
SELECT pgmq.send('hz', '{"dd": 2}', '{"x-pgmq-dedup-id": "a"}'::jsonb) > 0 AS sent;
SELECT count(*) FROM pgmq.send_batch('hz', ARRAY['{"dd": 3}', '{"dd": 4}']::jsonb[],
    ARRAY['{"x-pgmq-dedup-id": "b"}', '{"x-pgmq-dedup-id": "c"}']::jsonb[]);
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass) > now() - interval '1 hour' AS still_advanced;
SELECT message FROM pgmq.read('hz', 30, 5);
SELECT pgmq.set_dedup_window('hz', 0);

-- a dropped queue takes its position with it
SELECT pgmq.drop_queue('hz');
SELECT pgmq.create('hz');
SELECT pgmq._horizon_start('pgmq.q_hz'::regclass);
SELECT pgmq.drop_queue('hz');
