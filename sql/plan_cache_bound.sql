-- The per-session plan cache is bounded by pgmq.plan_cache_size: the plans
-- of the least recently used queues are dropped, those of queues used in the
-- current transaction never.  Kept plans are visible as CachedPlanSource
-- memory contexts whose identifier is the statement (which names the table).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
RESET client_min_messages;
SHOW pgmq.plan_cache_size;
SELECT pgmq.create('pcb_' || i) FROM generate_series(1, 6) i;

CREATE FUNCTION pcb_cached_queues() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(q, ',' ORDER BY q), '')
    FROM (SELECT DISTINCT substring(ident FROM 'q_pcb_[0-9]+') AS q
            FROM pg_backend_memory_contexts
           WHERE name = 'CachedPlanSource' AND ident ~ 'q_pcb_[0-9]+') s
$$;

SET pgmq.plan_cache_size = 3;
-- one transaction per read: each opens its queue in a new transaction
SELECT count(*) FROM pgmq.read('pcb_1', 0, 1);
SELECT count(*) FROM pgmq.read('pcb_2', 0, 1);
SELECT count(*) FROM pgmq.read('pcb_3', 0, 1);
SELECT pcb_cached_queues();
SELECT count(*) FROM pgmq.read('pcb_4', 0, 1);
SELECT count(*) FROM pgmq.read('pcb_5', 0, 1);
-- pcb_1 and pcb_2 were least recently used
SELECT pcb_cached_queues();
SELECT count(*) FROM pgmq.read('pcb_3', 0, 1);
SELECT count(*) FROM pgmq.read('pcb_6', 0, 1);
-- pcb_4 was least recently used (pcb_3 was used again)
SELECT pcb_cached_queues();

-- all queues used in one transaction stay until it ends
BEGIN;
SELECT count(*) FROM generate_series(1, 6) i, pgmq.read('pcb_' || i, 0, 1);
SELECT pcb_cached_queues();
COMMIT;
SELECT count(*) FROM pgmq.read('pcb_1', 0, 1);
SELECT pcb_cached_queues();

-- a size of 1 still works, queue after queue
SET pgmq.plan_cache_size = 1;
SELECT count(*) FROM generate_series(1, 6) i, pgmq.send('pcb_' || i, '{"a": 1}');
SELECT count(*) FROM pgmq.read('pcb_2', 0, 6);
SELECT pcb_cached_queues();
SET pgmq.plan_cache_size = 0;
RESET pgmq.plan_cache_size;

DROP FUNCTION pcb_cached_queues();
SELECT pgmq.drop_queue('pcb_' || i) FROM generate_series(1, 6) i;
