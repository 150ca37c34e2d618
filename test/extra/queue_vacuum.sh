#!/usr/bin/env bash
# test/extra/queue_vacuum.sh: the queue vacuum worker (src/queue_vacuum.c), on
# the harness cluster, which preloads pgmq.  Checks that consuming messages
# gets the queue table vacuumed within seconds (a manual VACUUM: it counts in
# vacuum_count, autovacuum's in autovacuum_count), that
# autovacuum_enabled = false is respected, that the worker leaves when there
# is nothing to do, and that it does not keep DROP DATABASE from working.
set -euo pipefail

fail() { echo "queue_vacuum: FAIL: $*" >&2; exit 1; }
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# wait_for SECONDS SQL: poll until SQL returns t
wait_for() {
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        [[ "$(sql -c "$2")" == t ]] && return 0
        sleep 0.2
    done
    return 1
}

sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create('qv_on'), pgmq.create('qv_off');
ALTER TABLE pgmq.q_qv_off SET (autovacuum_enabled = false);
SQL
[[ "$(sql -c "SELECT current_setting('pgmq.vacuum_interval')")" == 1s ]] ||
    fail "pgmq.vacuum_interval is not 1s by default"

# consume 3000 of 5000 messages in each queue; the session ends, so its
# statistics are flushed
sql >/dev/null <<'SQL'
SELECT count(*) FROM pgmq.send_batch('qv_on', array_fill('{"a": 1}'::jsonb, ARRAY[5000]));
SELECT count(*) FROM pgmq.send_batch('qv_off', array_fill('{"a": 1}'::jsonb, ARRAY[5000]));
SELECT count(*) FROM pgmq.pop('qv_on', 3000);
SELECT count(*) FROM pgmq.pop('qv_off', 3000);
SQL

wait_for 30 "SELECT vacuum_count > 0 AND n_dead_tup < 3000 FROM pg_stat_user_tables
             WHERE relid = 'pgmq.q_qv_on'::regclass" ||
    fail "q_qv_on was not vacuumed within 30 s of consuming 3000 messages"
[[ "$(sql -c "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'pgmq.q_qv_off'::regclass")" == 0 ]] ||
    fail "q_qv_off (autovacuum_enabled = false) was vacuumed"

wait_for 30 "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                 WHERE backend_type = 'pgmq queue vacuum worker')" ||
    fail "the worker did not leave within 30 s of running out of work"

# a database whose queues were just consumed can be dropped at once
sql -c "CREATE DATABASE qv_db"
sql -d qv_db >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION pgmq;
SELECT pgmq.create('q');
SELECT count(*) FROM pgmq.send_batch('q', array_fill('{"a": 1}'::jsonb, ARRAY[3000]));
SELECT count(*) FROM pgmq.pop('q', 3000);
SQL
wait_for 10 "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                             WHERE backend_type = 'pgmq queue vacuum worker' AND datname = 'qv_db')" ||
    fail "no worker started for database qv_db"
sql -c "DROP DATABASE qv_db" || fail "DROP DATABASE failed while the worker was around"

sql -c "SELECT pgmq.drop_queue('qv_on'), pgmq.drop_queue('qv_off')" >/dev/null
echo "queue_vacuum: ok"
