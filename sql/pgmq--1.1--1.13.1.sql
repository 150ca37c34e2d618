-- pgmq 1.1 -> 1.13.1: the pgmq 1.13.1 API (versions are named after the pgmq
-- API they implement), plus what this release adds.
-- A fresh CREATE EXTENSION pgmq runs pgmq--1.0.sql, pgmq--1.0--1.1.sql and then
-- this script.  Every object added here must also reach an installation
-- upgraded in place from the PL/pgSQL pgmq (see sql/pgmq--1.11.0--1.13.1.sql).
\echo Use "ALTER EXTENSION pgmq UPDATE TO '1.13.1'" to load this file. \quit
