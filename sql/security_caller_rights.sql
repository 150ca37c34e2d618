-- security_caller_rights: pgmq's bookkeeping runs with the caller's own
-- rights, never as another role (issue 11).  A read that dead-letters a
-- message counts it in pgmq.dead_letter_counts, and a send to a notifying
-- queue stamps pgmq.notify_insert_throttle: triggers on those tables record
-- current_user, which must be the reader / the sender, not the tables'
-- owner (before issue 11 they ran as the owner).  Then what the caller's rights allow there: only the counts and
-- stamps of queues it may consume from / send to, counts only upwards,
-- stamps never ahead of the clock; policies only by the queue's owner.
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

CREATE TABLE public.cr_seen (tbl text, run_as text);
GRANT INSERT ON public.cr_seen TO PUBLIC;
CREATE FUNCTION public.cr_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.cr_seen VALUES (TG_TABLE_NAME, current_user);
    RETURN NEW;
END $$;
CREATE TRIGGER cr_record BEFORE INSERT OR UPDATE ON pgmq.dead_letter_counts
    FOR EACH ROW EXECUTE FUNCTION public.cr_record();
CREATE TRIGGER cr_record BEFORE UPDATE ON pgmq.notify_insert_throttle
    FOR EACH ROW EXECUTE FUNCTION public.cr_record();

CREATE ROLE regress_cr_consumer;
CREATE ROLE regress_cr_producer;
CREATE ROLE regress_cr_nobody;

SELECT pgmq.create('cr_q');
SELECT pgmq.create('cr_dlq');
SELECT pgmq.create('cr_other');
SELECT pgmq.set_dead_letter_queue('cr_q', 'cr_dlq', 1);
SELECT pgmq.enable_notify_insert('cr_q', 0);
GRANT SELECT, UPDATE, DELETE ON pgmq.q_cr_q TO regress_cr_consumer;
GRANT INSERT, SELECT (msg_id) ON pgmq.q_cr_dlq TO regress_cr_consumer;
GRANT INSERT, SELECT (msg_id) ON pgmq.q_cr_q TO regress_cr_producer;
SELECT pgmq.send('cr_q', '{"poison": true}');
UPDATE pgmq.q_cr_q SET read_ct = 1;
TRUNCATE public.cr_seen;

-- The producer sends: the throttle row is stamped as the producer.
SET ROLE regress_cr_producer;
SELECT pgmq.send('cr_q', '{"n": 2}') AS sent;
RESET ROLE;
-- The consumer reads: the read moves the poison message, counts the move
-- as the consumer, and delivers the next one.
SET ROLE regress_cr_consumer;
SELECT msg_id, read_ct FROM pgmq.read('cr_q', 0, 1);
RESET ROLE;
SELECT tbl, run_as FROM public.cr_seen ORDER BY tbl;
SELECT queue_name, dead_lettered FROM pgmq.metrics('cr_q');

-- What a caller may write there, and what not.
SET ROLE regress_cr_consumer;
SELECT pg_temp.err($$INSERT INTO pgmq.dead_letter_counts VALUES ('cr_other', 1, 5)$$);
SELECT pg_temp.err($$INSERT INTO pgmq.dead_letter_counts VALUES ('cr_q', -7, -1)$$);
SELECT pg_temp.err($$UPDATE pgmq.dead_letter_counts SET moved = 0 WHERE queue_name = 'cr_q'$$);
SELECT pg_temp.err($$UPDATE pgmq.dead_letter_counts SET slot = 99 WHERE queue_name = 'cr_q'$$);
SELECT pg_temp.err($$DELETE FROM pgmq.dead_letter_counts$$);
SELECT pg_temp.err($$UPDATE pgmq.notify_insert_throttle SET last_notified_at = now() WHERE queue_name = 'cr_q'$$);
RESET ROLE;
SET ROLE regress_cr_producer;
SELECT pg_temp.err($$UPDATE pgmq.notify_insert_throttle SET last_notified_at = 'infinity' WHERE queue_name = 'cr_q'$$);
SELECT pg_temp.err($$UPDATE pgmq.notify_insert_throttle SET throttle_interval_ms = 1 WHERE queue_name = 'cr_q'$$);
SELECT pg_temp.err($$INSERT INTO pgmq.dead_letter_counts VALUES ('cr_q', -7, 1)$$);
RESET ROLE;
SET ROLE regress_cr_nobody;
SELECT pg_temp.err($$SELECT pgmq.send('cr_q', '{"n": 3}')$$);
SELECT pg_temp.err($$INSERT INTO pgmq.dead_letter_counts VALUES ('cr_q', -7, 1)$$);
SELECT pg_temp.err($$UPDATE pgmq.notify_insert_throttle SET last_notified_at = now() WHERE queue_name = 'cr_q'$$);
RESET ROLE;
SELECT queue_name, dead_lettered FROM pgmq.metrics('cr_q');

-- The extension owner's grants on pgmq.dead_letter_policy do not let a role
-- send another role's poison messages where it can read them: only the
-- owner of the source queue's table may write its policy.
CREATE ROLE regress_cr_extowner;
GRANT INSERT, UPDATE, DELETE ON pgmq.dead_letter_policy TO regress_cr_extowner;
SET ROLE regress_cr_extowner;
SELECT pg_temp.err($$INSERT INTO pgmq.dead_letter_policy VALUES ('cr_other', 'cr_dlq', 1)$$);
SELECT pg_temp.err($$UPDATE pgmq.dead_letter_policy SET dead_letter_queue = 'cr_other' WHERE queue_name = 'cr_q'$$);
RESET ROLE;
SELECT * FROM pgmq.list_dead_letter_policies() WHERE queue_name LIKE 'cr%';
REVOKE ALL ON pgmq.dead_letter_policy FROM regress_cr_extowner;
DROP ROLE regress_cr_extowner;

DROP TRIGGER cr_record ON pgmq.dead_letter_counts;
DROP TRIGGER cr_record ON pgmq.notify_insert_throttle;
SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['cr_q', 'cr_dlq', 'cr_other']) q;
DROP ROLE regress_cr_consumer;
DROP ROLE regress_cr_producer;
DROP ROLE regress_cr_nobody;
DROP FUNCTION public.cr_record();
DROP TABLE public.cr_seen;
