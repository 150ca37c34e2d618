#!/usr/bin/env bash
# test/extra/retention_worker.sh: the queue vacuum worker applies retention
# (src/retention.c, hooked into src/queue_vacuum.c): expired messages of a
# queue with a message retention disappear without any call, in bounded
# steps, and metrics counts them.  Needs the harness's preloaded cluster
# (PGHOST/PGPORT/PGUSER).  The worker is started the way consumers start it
# (by consuming rows), then 1500 messages are made older than the retention.
# Then a queue nobody reads, in a database of its own: set_retention and
# sends start the worker, and it stays while there is a retention to apply.
set -euo pipefail
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

psql_q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create('rtw');
SELECT pgmq.set_retention('rtw', '1 minute', NULL);
-- consuming rows starts the database's worker
SELECT count(*) FROM pgmq.send_batch('rtw', array_fill('{}'::jsonb, ARRAY[600]));
SELECT count(*) FROM pgmq.pop('rtw', 600);
SELECT count(*) FROM pgmq.send_batch('rtw', array_fill('{"old": true}'::jsonb, ARRAY[1500]));
UPDATE pgmq.q_rtw SET enqueued_at = now() - interval '2 minutes';
SELECT pgmq.send('rtw', '{"young": true}');
SQL
cleanup() { psql_q -c "SELECT pgmq.drop_queue('rtw')" >/dev/null; }
trap cleanup EXIT

for i in $(seq 1 30); do
    left="$(psql_q -c "SELECT count(*) FROM pgmq.q_rtw WHERE message ? 'old'")"
    [[ "$left" == 0 ]] && break
    sleep 0.5
done
young="$(psql_q -c "SELECT count(*) FROM pgmq.q_rtw WHERE message ? 'young'")"
expired="$(psql_q -c "SELECT retention_expired FROM pgmq.metrics('rtw')")"
echo "after $((i / 2)) s: $left expired messages left, $young young kept, metrics retention_expired = $expired"
if [[ "$left" != 0 || "$young" != 1 || "$expired" != 1500 ]]; then
    echo "FAILED: the worker did not apply the retention"
    exit 1
fi
echo "retention applied by the queue vacuum worker"

# A queue nobody reads: the worker must apply its retention all the same.
# In a database of its own (no worker there yet): set_retention starts the
# worker, which stays while the database has a retention even when nothing
# expires for a while; after the worker is gone (terminated here), the next
# send to the queue starts one again.
DB=pgmq_rtw_unread
psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
trap 'cleanup; psql_q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null' EXIT
workers() {
    psql_q -d postgres -c "SELECT count(*) FROM pg_stat_activity
        WHERE backend_type = 'pgmq queue vacuum worker' AND datname = '$DB'"
}
wait_for() { # SQL EXPECTED: wait up to 15 s for SQL (in $DB) to print EXPECTED
    local got
    for _ in $(seq 1 30); do
        got="$(psql_q -d "$DB" -c "$1")"
        [[ "$got" == "$2" ]] && return 0
        sleep 0.5
    done
    echo "FAILED: '$1' gave '$got', expected '$2'"
    exit 1
}
psql_q -d "$DB" <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION pgmq;
SELECT pgmq.create('unread');
SQL
[[ "$(workers)" == 0 ]] || { echo "FAILED: a worker runs before anything happened"; exit 1; }
psql_q -d "$DB" -c "SELECT pgmq.set_retention('unread', '1 minute', NULL)" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pgmq queue vacuum worker' AND datname = current_database()" 1
psql_q -d "$DB" -c "SELECT count(*) FROM pgmq.send_batch('unread', array_fill('{\"old\": true}'::jsonb, ARRAY[800]))" >/dev/null
sleep 4   # more than the rounds after which an idle worker leaves
[[ "$(workers)" == 1 ]] || { echo "FAILED: the worker left a database with a retention"; exit 1; }
psql_q -d "$DB" -c "UPDATE pgmq.q_unread SET enqueued_at = now() - interval '2 minutes'" >/dev/null
wait_for "SELECT count(*) FROM pgmq.q_unread" 0
echo "unread queue: 800 expired messages removed by the worker that set_retention started"

# no retention left: the worker leaves (cleanly, after its idle rounds);
# then the setting comes back without set_retention (as after a restore or a
# restart, when no worker runs), so only the next send can start one
psql_q -d "$DB" -c "SELECT pgmq.set_retention('unread', NULL, NULL)" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pgmq queue vacuum worker' AND datname = current_database()" 0
psql_q -d "$DB" -c "INSERT INTO pgmq.retention_settings (queue_name, message_retention) VALUES ('unread', '1 minute')" >/dev/null
sleep 3
[[ "$(workers)" == 0 ]] || { echo "FAILED: a worker started without a send"; exit 1; }
psql_q -d "$DB" <<'SQL' >/dev/null
SELECT count(*) FROM pgmq.send_batch('unread', array_fill('{"old": true}'::jsonb, ARRAY[300]));
UPDATE pgmq.q_unread SET enqueued_at = now() - interval '2 minutes';
SQL
psql_q -d "$DB" -c "SELECT pgmq.send('unread', '{\"young\": true}')" >/dev/null
wait_for "SELECT count(*) FROM pgmq.q_unread WHERE message ? 'old'" 0
wait_for "SELECT retention_expired FROM pgmq.metrics('unread')" 1100
echo "unread queue: with no worker running, a send started one and it removed 300 more"
