-- Reads of a prioritised queue skip a priority whose first index entry lay
-- in the future at the last probe (priority_hint.c) until an entry of that
-- priority is added.  Every way a message of a skipped priority can become
-- visible must be seen by the next read: each block below first makes a read
-- leave a hint for priority 5 (its only message is delayed), then makes that
-- message visible another way, and reads again.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
SELECT pgmq.create('ph');
SELECT pgmq.enable_priorities('ph');

CREATE FUNCTION pg_temp.fill() RETURNS bigint LANGUAGE sql AS $$
  SELECT pgmq.purge_queue('ph');
  SELECT pgmq.send('ph', '{"p": 0, "n": 1}');
  SELECT pgmq.send('ph', '{"p": 0, "n": 2}');
  SELECT pgmq.send('ph', '{"p": 5}', '{"x-pgmq-priority": 5}'::jsonb, 3600);
$$;

-- set_vt of the delayed message to now
SELECT pg_temp.fill() AS delayed_id \gset
SELECT message FROM pgmq.read('ph', 30, 1);
SELECT count(*) FROM pgmq.set_vt('ph', :delayed_id, 0);
SELECT message FROM pgmq.read('ph', 30, 1);

-- an UPDATE written by hand
SELECT pg_temp.fill() AS delayed_id \gset
SELECT message FROM pgmq.read('ph', 30, 1);
UPDATE pgmq.q_ph SET vt = clock_timestamp() - interval '1 second' WHERE msg_id = :delayed_id;
SELECT message FROM pgmq.read('ph', 30, 1);

-- a new visible message of priority 5 (the hint for it said "none before an hour")
SELECT pg_temp.fill() AS delayed_id \gset
SELECT message FROM pgmq.read('ph', 30, 1);
SELECT pgmq.send('ph', '{"p": 5, "new": true}', '{"x-pgmq-priority": 5}'::jsonb) > 0 AS sent;
SELECT message FROM pgmq.read('ph', 30, 1);

-- a priority with no entry at all (hint: none ever), then a send to it
SELECT pgmq.purge_queue('ph') >= 0;
SELECT pgmq.send('ph', '{"p": 0}') > 0 AS sent;
SELECT message FROM pgmq.read('ph', 30, 1);
SELECT pgmq.send('ph', '{"p": 0, "n": 2}') > 0 AS sent;
SELECT pgmq.send('ph', '{"p": 7}', '{"x-pgmq-priority": 7}'::jsonb) > 0 AS sent;
SELECT message FROM pgmq.read('ph', 30, 1);

-- a read rolled back gives its message back in its priority: the message's
-- old entry was there all along, so no hint could have skipped it
SELECT pgmq.purge_queue('ph') >= 0;
SELECT pgmq.send('ph', '{"p": 0}') > 0 AS sent;
SELECT pgmq.send('ph', '{"p": 6}', '{"x-pgmq-priority": 6}'::jsonb) > 0 AS sent;
BEGIN;
SELECT message FROM pgmq.read('ph', 30, 1);
ROLLBACK;
SELECT message FROM pgmq.read('ph', 30, 1);

-- time: a delayed message of priority 5 whose delay ends is read first
SELECT pgmq.purge_queue('ph') >= 0;
SELECT pgmq.send('ph', '{"p": 0, "n": 1}') > 0 AS sent;
SELECT pgmq.send('ph', '{"p": 0, "n": 2}') > 0 AS sent;
SELECT pgmq.send('ph', '{"p": 5}', '{"x-pgmq-priority": 5}'::jsonb, 1) > 0 AS sent;
SELECT message FROM pgmq.read('ph', 30, 1);
SELECT pg_sleep(1.2);
SELECT message FROM pgmq.read('ph', 30, 1);

-- disable and enable again (a new index): hints of the old one prove nothing wrong
SELECT pg_temp.fill() AS delayed_id \gset
SELECT message FROM pgmq.read('ph', 30, 1);
SELECT pgmq.disable_priorities('ph');
SELECT count(*) FROM pgmq.set_vt('ph', :delayed_id, 0);
SELECT pgmq.enable_priorities('ph');
SELECT message FROM pgmq.read('ph', 30, 1);

SELECT pgmq.drop_queue('ph');

-- A prioritised queue with a dead-letter policy reads in priority order too,
-- and moves a poison message when the read reaches its priority (it is not
-- delivered; the read goes on with the rest of that priority, then lower).
SELECT pgmq.create('phd');
SELECT pgmq.create('phd_dlq');
SELECT pgmq.enable_priorities('phd');
SELECT pgmq.set_dead_letter_queue('phd', 'phd_dlq', 2);
SELECT pgmq.send('phd', '{"p": 0}') > 0 AS sent;
SELECT pgmq.send('phd', '{"p": 3}', '{"x-pgmq-priority": 3}'::jsonb) > 0 AS sent;
SELECT pgmq.send('phd', '{"p": 8, "poison": true}', '{"x-pgmq-priority": 8}'::jsonb) AS poison_id \gset
SELECT pgmq.send('phd', '{"p": 8, "n": 2}', '{"x-pgmq-priority": 8}'::jsonb) > 0 AS sent;
SELECT pgmq.send('phd', '{"p": 9}', '{"x-pgmq-priority": 9}'::jsonb) > 0 AS sent;
UPDATE pgmq.q_phd SET read_ct = 2 WHERE msg_id = :poison_id;
SELECT message FROM pgmq.read('phd', 30, 2);
SELECT message FROM pgmq.read('phd', 30, 5);
SELECT message, headers->'x-pgmq-dead-letter'->>'queue' AS from_queue FROM pgmq.q_phd_dlq;
-- conditional reads keep the order among matching messages
SELECT pgmq.purge_queue('phd') >= 0;
SELECT pgmq.send('phd', '{"k": 1, "p": 0}') > 0 AS sent;
SELECT pgmq.send('phd', '{"k": 2, "p": 5}', '{"x-pgmq-priority": 5}'::jsonb) > 0 AS sent;
SELECT pgmq.send('phd', '{"k": 1, "p": 4}', '{"x-pgmq-priority": 4}'::jsonb) > 0 AS sent;
SELECT message FROM pgmq.read('phd', 30, 5, '{"k": 1}');
-- read_with_poll goes the same way
SELECT message FROM pgmq.read_with_poll('phd', 30, 5, 1, 10);
SELECT pgmq.drop_queue('phd');
SELECT pgmq.drop_queue('phd_dlq');

-- Topic sends check x-pgmq-priority on the prioritised queues they reach,
-- as send does: a bad value is 22023 and no queue keeps the message
SELECT pgmq.create('pht_plain');
SELECT pgmq.create('pht_prio');
SELECT pgmq.enable_priorities('pht_prio');
SELECT pgmq.bind_topic('pht.*', 'pht_plain');
SELECT pgmq.bind_topic('pht.*', 'pht_prio');
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pg_temp.err($$SELECT pgmq.send_topic('pht.x', '{"bad": 1}', '{"x-pgmq-priority": "high"}'::jsonb, 0)$$);
SELECT pg_temp.err($$SELECT pgmq.send_topic('pht.x', '{"bad": 2}', '{"x-pgmq-priority": 12}'::jsonb, 0)$$);
SELECT pg_temp.err($$SELECT pgmq.send_batch_topic('pht.x', ARRAY['{"bad": 3}', '{"bad": 4}']::jsonb[],
    ARRAY['{"x-pgmq-priority": 1}', '{"x-pgmq-priority": 2.5}']::jsonb[])$$);
SELECT (SELECT count(*) FROM pgmq.q_pht_plain) AS plain, (SELECT count(*) FROM pgmq.q_pht_prio) AS prio;
SELECT pgmq.send_topic('pht.x', '{"good": 9}', '{"x-pgmq-priority": 9}'::jsonb, 0);
SELECT pgmq.send_topic('pht.x', '{"good": 0}');
SELECT message FROM pgmq.read('pht_prio', 30, 5);
SELECT pgmq.drop_queue('pht_plain');
SELECT pgmq.drop_queue('pht_prio');
