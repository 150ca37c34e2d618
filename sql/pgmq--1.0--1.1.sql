-- pgmq 1.0 -> 1.1: dead-letter queues (see docs/dead_letter.md).
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql and then this script.
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.1'" to load this file. \quit

-- metrics: how many messages a queue has moved to its dead-letter queue
-- (a new last column; the existing ones keep their order).
ALTER TYPE pgmq.metrics_result ADD ATTRIBUTE dead_lettered bigint;

-- One row per queue that has a policy.  Dropping either queue deletes its
-- meta row and, through the foreign keys, the policy.
CREATE TABLE pgmq.dead_letter_policy (
    queue_name character varying NOT NULL PRIMARY KEY
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    dead_letter_queue character varying NOT NULL
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    max_read_ct integer NOT NULL CHECK (max_read_ct >= 1),
    CHECK (queue_name <> dead_letter_queue)
);
CREATE INDEX dead_letter_policy_dlq_idx ON pgmq.dead_letter_policy (dead_letter_queue);
SELECT pg_catalog.pg_extension_config_dump('pgmq.dead_letter_policy', '');

-- Every change to a policy (including the cascades above) makes every
-- backend drop the policy it cached for the source queue.
CREATE FUNCTION pgmq.dead_letter_policy_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'pgmq_dead_letter_policy_changed' LANGUAGE C;
CREATE TRIGGER dead_letter_policy_changed
    AFTER INSERT OR UPDATE OR DELETE ON pgmq.dead_letter_policy
    FOR EACH ROW EXECUTE FUNCTION pgmq.dead_letter_policy_changed();

-- How many messages each queue has dead-lettered: one row per (queue,
-- backend slot), so readers in different sessions never wait on one row;
-- metrics adds them up.  Any role that can read a queue must be able to
-- count its moves, hence INSERT/UPDATE for PUBLIC.
CREATE TABLE pgmq.dead_letter_counts (
    queue_name character varying NOT NULL
        REFERENCES pgmq.meta (queue_name) ON DELETE CASCADE,
    slot integer NOT NULL,
    moved bigint NOT NULL,
    PRIMARY KEY (queue_name, slot)
);
SELECT pg_catalog.pg_extension_config_dump('pgmq.dead_letter_counts', '');

GRANT SELECT ON pgmq.dead_letter_policy, pgmq.dead_letter_counts TO PUBLIC;
GRANT SELECT ON pgmq.dead_letter_policy, pgmq.dead_letter_counts TO pg_monitor;
GRANT INSERT, UPDATE, DELETE ON pgmq.dead_letter_policy TO @extowner@;
GRANT DELETE ON pgmq.dead_letter_counts TO @extowner@;

CREATE FUNCTION pgmq.set_dead_letter_queue(queue_name text, dead_letter_queue text,
                                           max_read_ct integer) RETURNS void
    AS 'MODULE_PATHNAME', 'pgmq_set_dead_letter_queue' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.clear_dead_letter_queue(queue_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'pgmq_clear_dead_letter_queue' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.redrive(dead_letter_queue text, queue_name text DEFAULT NULL,
                             qty integer DEFAULT NULL) RETURNS bigint
    AS 'MODULE_PATHNAME', 'pgmq_redrive' LANGUAGE C VOLATILE;

CREATE FUNCTION pgmq.list_dead_letter_policies()
    RETURNS TABLE (queue_name text, dead_letter_queue text, max_read_ct integer)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT p.queue_name::text, p.dead_letter_queue::text, p.max_read_ct
          FROM pgmq.dead_letter_policy p ORDER BY p.queue_name
    $$;
