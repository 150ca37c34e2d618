-- notify: enable / update / disable / list of insert notifications, the
-- trigger they use, throttle bookkeeping (who stamps last_notified_at and
-- when), privileges of senders, and every error.  Delivery to a LISTENing
-- session is shown by the isolation spec notify_insert.spec.
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

-- the notify trigger of a queue table, if any
CREATE FUNCTION pg_temp.triggers(q text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(tgname || ' ' ||
                               regexp_replace(pg_get_triggerdef(oid), '^.* AFTER', 'AFTER'),
                               '; ' ORDER BY tgname), '(none)')
      FROM pg_trigger WHERE tgrelid = ('pgmq.q_' || q)::regclass AND NOT tgisinternal
$$;

SELECT pgmq.create('nt_plain');
SELECT pgmq.create('NT_Mixed');

-- a queue without notifications has no trigger: sends pay nothing
SELECT pg_temp.triggers('nt_plain');
SELECT * FROM pgmq.list_notify_insert_throttles();

-- enable: default interval 250 ms; the name is folded to lower case
SELECT pgmq.enable_notify_insert('NT_Mixed');
SELECT * FROM pgmq.list_notify_insert_throttles();
SELECT pg_temp.triggers('nt_mixed');
-- enabling again keeps one trigger and sets the interval
SELECT pgmq.enable_notify_insert('nt_mixed', 60000);
SELECT pgmq.enable_notify_insert(queue_name => 'nt_plain', throttle_interval_ms => 0);
SELECT * FROM pgmq.list_notify_insert_throttles();
SELECT pg_temp.triggers('nt_mixed');

-- update
SELECT pgmq.update_notify_insert('NT_MIXED', 3600000);
SELECT pgmq.update_notify_insert(queue_name => 'nt_mixed', throttle_interval_ms => 3600000);
SELECT queue_name, throttle_interval_ms FROM pgmq.list_notify_insert_throttles();

-- Throttle bookkeeping.  A send stamps last_notified_at when it notifies.
-- With a one-hour interval the second send does not notify again (the stamp
-- stays); with no interval every send stamps.
SELECT last_notified_at = to_timestamp(0) AS never_notified
  FROM pgmq.list_notify_insert_throttles() WHERE lower(queue_name) = 'nt_mixed';
SELECT count(*) FROM pgmq.send('nt_mixed', '{"n": 1}');
SELECT last_notified_at AS first_stamp
  FROM pgmq.list_notify_insert_throttles() WHERE lower(queue_name) = 'nt_mixed' \gset
SELECT :'first_stamp'::timestamptz <= clock_timestamp() AS stamped;
SELECT count(*) FROM pgmq.send('nt_mixed', '{"n": 2}');
SELECT count(*) FROM pgmq.send_batch('nt_mixed', ARRAY['{"n": 3}', '{"n": 4}']::jsonb[]);
SELECT last_notified_at = :'first_stamp' AS throttled_no_new_stamp
  FROM pgmq.list_notify_insert_throttles() WHERE lower(queue_name) = 'nt_mixed';
-- a shorter interval lets the next send notify again
SELECT pgmq.update_notify_insert('nt_mixed', 0);
SELECT count(*) FROM pgmq.send('nt_mixed', '{"n": 5}');
SELECT last_notified_at > :'first_stamp' AS stamped_again
  FROM pgmq.list_notify_insert_throttles() WHERE lower(queue_name) = 'nt_mixed';

-- a rolled-back send leaves no stamp (and its NOTIFY is discarded too)
SELECT count(*) FROM pgmq.send('nt_plain', '{}');
SELECT last_notified_at AS plain_stamp
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt_plain' \gset
BEGIN;
SELECT count(*) FROM pgmq.send('nt_plain', '{}');
SELECT last_notified_at > :'plain_stamp' AS stamped_in_transaction
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt_plain';
ROLLBACK;
SELECT last_notified_at = :'plain_stamp' AS stamp_rolled_back
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt_plain';

-- topic sends go through the same trigger
SELECT pgmq.bind_topic('nt.#', 'nt_plain');
SELECT pgmq.send_topic('nt.x', '{}');
SELECT last_notified_at > :'plain_stamp' AS stamped_by_topic_send
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt_plain';
SELECT last_notified_at AS topic_stamp
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt_plain' \gset

-- A role that may only send to the queue (INSERT, and SELECT for the
-- returned msg_id) can send to a notifying queue: the trigger reads and
-- stamps the throttle row with the sender's own rights (it may stamp the
-- rows of queues it may send to, and nothing else).
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_pgmq_sender;
RESET client_min_messages;
CREATE ROLE regress_pgmq_sender;
GRANT INSERT, SELECT ON pgmq.q_nt_plain TO regress_pgmq_sender;
SELECT has_table_privilege('regress_pgmq_sender', 'pgmq.notify_insert_throttle', 'UPDATE')
       AS sender_may_update_throttle;
SET ROLE regress_pgmq_sender;
SELECT count(*) FROM pgmq.send('nt_plain', '{"from": "sender"}');
-- ... but it cannot change the settings
SELECT pg_temp.err('SELECT pgmq.update_notify_insert(''nt_plain'', 1)');
SELECT pg_temp.err('UPDATE pgmq.notify_insert_throttle SET last_notified_at = NULL');
RESET ROLE;
SELECT last_notified_at > :'topic_stamp' AS stamped_by_sender
  FROM pgmq.list_notify_insert_throttles() WHERE queue_name = 'nt_plain';
REVOKE ALL ON pgmq.q_nt_plain FROM regress_pgmq_sender;
DROP ROLE regress_pgmq_sender;

-- bad input
SELECT f, pg_temp.err(f) FROM unnest(ARRAY[
    'SELECT pgmq.enable_notify_insert(NULL)',
    'SELECT pgmq.enable_notify_insert(''nt_plain'', NULL)',
    'SELECT pgmq.enable_notify_insert(''nt_plain'', -1)',
    'SELECT pgmq.enable_notify_insert(''no_such_queue'')',
    'SELECT pgmq.enable_notify_insert(''bad name'')',
    'SELECT pgmq.disable_notify_insert(NULL)',
    'SELECT pgmq.disable_notify_insert(''no_such_queue'')',
    'SELECT pgmq.update_notify_insert(NULL, 1)',
    'SELECT pgmq.update_notify_insert(''nt_plain'', NULL)',
    'SELECT pgmq.update_notify_insert(''nt_plain'', -5)',
    'SELECT pgmq.update_notify_insert(''no_such_queue'', 1)',
    'SELECT pgmq.notify_queue_listeners()']) AS f;
-- bad input changed nothing
SELECT queue_name, throttle_interval_ms, last_notified_at IS NOT NULL AS notified
  FROM pgmq.list_notify_insert_throttles();
SELECT pg_temp.err('SELECT pgmq.update_notify_insert(''nt_new'', 1)') AS before_create;
SELECT pgmq.create('nt_new');
SELECT pg_temp.err('SELECT pgmq.update_notify_insert(''nt_new'', 1)') AS not_enabled;

-- the trigger function refuses to run anywhere but on a queue table
CREATE TABLE pg_temp.not_a_queue (x int);
CREATE TRIGGER t AFTER INSERT ON pg_temp.not_a_queue
    FOR EACH STATEMENT EXECUTE FUNCTION pgmq.notify_queue_listeners();
SELECT pg_temp.err('INSERT INTO pg_temp.not_a_queue VALUES (1)');

-- disable: drops the trigger and the throttle row; idempotent
SELECT pgmq.disable_notify_insert('NT_Mixed');
SELECT pgmq.disable_notify_insert('nt_mixed');
SELECT pg_temp.triggers('nt_mixed');
SELECT queue_name FROM pgmq.list_notify_insert_throttles();
SELECT count(*) FROM pgmq.send('nt_mixed', '{"after": "disable"}');

-- drop_queue removes the throttle row with the queue
SELECT pgmq.drop_queue('nt_plain');
SELECT count(*) AS throttle_rows_left FROM pgmq.notify_insert_throttle;
SELECT pgmq.drop_queue('nt_mixed');
SELECT pgmq.drop_queue('nt_new');

-- the catalog: argument names and defaults as the API says
SELECT p.oid::regprocedure AS function, pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result
  FROM pg_proc p
 WHERE p.pronamespace = 'pgmq'::regnamespace
   AND p.proname IN ('enable_notify_insert', 'disable_notify_insert', 'update_notify_insert',
                     'list_notify_insert_throttles')
 ORDER BY 1::text;
