-- pgmq 1.1 -> 1.13.1: the pgmq 1.13.1 API (versions are named after the pgmq
-- API they implement), plus what this release adds.
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql, pgmq--1.0--1.1.sql and then
-- this script.  Every object added here must also reach an installation
-- upgraded in place from the PL/pgSQL pgmq (see sql/pgmq--1.11.0--1.13.1.sql).
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.13.1'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Read start position (issue 14, docs/horizon.md): where a read of a queue
-- table may begin its vt range, kept in shared memory; called inside the
-- read and pop statements.  -infinity when there is none.
CREATE FUNCTION pgmq._horizon_start(queue_table oid)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'pgmq_horizon_start'
    LANGUAGE C STABLE STRICT;
