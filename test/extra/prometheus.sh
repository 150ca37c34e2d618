#!/usr/bin/env bash
# test/extra/prometheus.sh: the queries file monitoring/postgres_exporter_queries.yaml
# works with the real prometheus-postgres-exporter (Debian package).  Starts
# the exporter on a free loopback port against the harness cluster
# (PGHOST/PGPORT/PGUSER; pgmq preloaded), connected as a login role that is
# only a member of pg_monitor, and checks that the pgmq series appear on
# /metrics with the values the known operations below give, and that none
# of the queries failed.
set -euo pipefail

fail() { echo "prometheus: FAIL: $*" >&2; exit 1; }
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
QUERIES="$HERE/monitoring/postgres_exporter_queries.yaml"
EXPORTER="${PGMQ_EXPORTER:-/usr/bin/prometheus-postgres-exporter}"
[[ -x "$EXPORTER" ]] || fail "$EXPORTER not found (Debian package prometheus-postgres-exporter)"
command -v curl >/dev/null || fail "curl not found"
DB="${PGDATABASE:-postgres}"

sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['prom_q', 'prom_dlq']) q;
DROP ROLE IF EXISTS pgmq_prom_test;
CREATE ROLE pgmq_prom_test LOGIN IN ROLE pg_monitor;
SELECT pgmq.create('prom_q'), pgmq.create('prom_dlq');
SELECT pgmq.stats_reset();
SELECT pgmq.send_batch('prom_q', ARRAY['{"a":1}', '{"a":2}', '{"a":3}']::jsonb[]);
SELECT pgmq.read('prom_q', 30, 1);
SELECT pgmq.delete('prom_q', 1);
SQL

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"
pid=
cleanup() {
    if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true    # the exporter's own status (143: our TERM)
    fi
    sql -c 'DROP ROLE IF EXISTS pgmq_prom_test' >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

DATA_SOURCE_NAME="host=$PGHOST port=$PGPORT user=pgmq_prom_test dbname=$DB sslmode=disable" \
    "$EXPORTER" --web.listen-address="127.0.0.1:$port" --extend.query-path="$QUERIES" \
    --disable-settings-metrics >"$work/exporter.log" 2>&1 &
pid=$!

# wait for the first scrape that has the pgmq series
metrics="$work/metrics"
for _ in $(seq 100); do
    if curl -sf "http://127.0.0.1:$port/metrics" -o "$metrics" && grep -q '^pgmq_stats_sends' "$metrics"; then
        break
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/exporter.log" >&2; fail "the exporter exited"; }
    sleep 0.2
done
grep -q '^pgmq_' "$metrics" || { cat "$work/exporter.log" >&2; fail "no pgmq series on /metrics"; }

grep -q '^pgmq_stats_sends{.*queue="prom_q"' "$metrics" || fail "no pgmq_stats_sends for prom_q"

# qv SERIES QUEUE: the value of a series by name and queue label (other labels vary by version)
qv() { grep -E "^$1\{([^}]*,)?queue=\"$2\"" "$metrics" | awk '{ print $2 }'; }
check() {
    local got
    got="$(qv "$1" "$2")"
    [[ -n "$got" ]] || { grep '^pgmq_' "$metrics" >&2; fail "no series $1 for queue $2"; }
    if [[ -n "${3:-}" ]]; then
        awk -v a="$got" -v b="$3" 'BEGIN { exit !(a + 0 == b + 0) }' ||
            { grep "^$1" "$metrics" >&2; fail "$1{queue=$2} is $got, expected $3"; }
    fi
    echo "ok: $1{queue=\"$2\"} = $got"
}
check pgmq_stats_sends prom_q 1
check pgmq_stats_messages_sent prom_q 3
check pgmq_stats_reads prom_q 1
check pgmq_stats_messages_delivered prom_q 1
check pgmq_stats_deletes prom_q 1
check pgmq_stats_queue_length_estimate prom_q 2
check pgmq_stats_dead_lettered prom_q 0
check pgmq_stats_stats_reset_timestamp_seconds prom_q
check pgmq_queue_messages_ever_sent prom_q 3
check pgmq_queue_oldest_msg_age_seconds prom_q
check pgmq_queue_newest_msg_age_seconds prom_q
check pgmq_queue_oldest_msg_age_seconds prom_dlq 0
grep -qE '^pgmq_stats_info_max_tracked_queues(\{[^}]*\})? [1-9]' "$metrics" ||
    fail "no pgmq_stats_info_max_tracked_queues"
echo "ok: pgmq_stats_info_max_tracked_queues"
grep -E '^pgmq_stats_sends\{' "$metrics" | grep -q 'queue="prom_dlq"' &&
    fail "prom_dlq had no traffic since the reset, yet has a pgmq_stats row"

# no query of the file failed
errs="$(grep -E '^pg_exporter_user_queries_load_error(\{[^}]*\})? ' "$metrics" | awk '{ s += $2 } END { print s + 0 }')"
[[ "$errs" == 0 ]] || fail "the exporter could not load the queries file"
if grep -iE 'error.*(pgmq|queries)' "$work/exporter.log"; then
    fail "the exporter logged query errors"
fi
echo "prometheus: all checks passed"
SQL_CLEAN="SELECT pgmq.drop_queue(q) FROM unnest(ARRAY['prom_q', 'prom_dlq']) q"
sql -c "$SQL_CLEAN" >/dev/null
