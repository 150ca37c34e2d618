-- pgmq 1.1 -> 1.13.1: the pgmq 1.13.1 API (versions are named after the pgmq
-- API they implement), plus what this release adds.
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql, pgmq--1.0--1.1.sql and then
-- this script.  Every object added here must also reach an installation
-- upgraded in place from the PL/pgSQL pgmq (see sql/pgmq--1.11.0--1.13.1.sql).
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.13.1'" to load this file. \quit

-- issue 17: statistics
-- Per-queue cumulative counters kept in shared memory when pgmq is in
-- shared_preload_libraries (src/stats.c).  Reading them never scans a queue.
CREATE FUNCTION pgmq.stats(
    OUT queue_name text,
    OUT sends bigint,
    OUT messages_sent bigint,
    OUT reads bigint,
    OUT messages_delivered bigint,
    OUT redeliveries bigint,
    OUT empty_reads bigint,
    OUT deletes bigint,
    OUT archives bigint,
    OUT pops bigint,
    OUT dead_lettered bigint,
    OUT poll_wakeups bigint,
    OUT queue_length_estimate bigint,
    OUT stats_reset timestamp with time zone)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgmq_stats' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE VIEW pgmq.stats AS SELECT * FROM pgmq.stats();

CREATE FUNCTION pgmq.stats_reset(queue_name text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pgmq_stats_reset' LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION pgmq.stats_info(
    OUT max_tracked_queues integer,
    OUT tracked_queues integer,
    OUT untracked_events bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgmq_stats_info' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- Monitoring roles read them; only superusers (or whom they grant) reset.
REVOKE ALL ON FUNCTION pgmq.stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmq.stats_info() FROM PUBLIC;
REVOKE ALL ON FUNCTION pgmq.stats_reset(text) FROM PUBLIC;
REVOKE ALL ON pgmq.stats FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmq.stats() TO pg_monitor;
GRANT EXECUTE ON FUNCTION pgmq.stats_info() TO pg_monitor;
GRANT SELECT ON pgmq.stats TO pg_monitor;
-- end of issue 17: statistics
