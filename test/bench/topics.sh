#!/usr/bin/env bash
# test/bench/topics.sh: per-call latency of topic sends with 100 and 200
# bindings and of sends to a queue with insert notifications, next to a plain
# send.  Uses pgbench from PATH against PGHOST/PGPORT/PGUSER/PGDATABASE; one
# client, TXNS transactions per run (default 1000), the best of five runs
# per case.  Creates queues named tb_* and drops them at the end.
set -euo pipefail
TXNS="${TXNS:-1000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -o /dev/null "$@"; }

psql_q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create('tb_plain');
SELECT pgmq.create('tb_notify');
SELECT pgmq.enable_notify_insert('tb_notify', 250);
-- 100 queues, each with its own pattern: a key reaches one of them
SELECT pgmq.create('tb_one_' || i) FROM generate_series(1, 100) i;
SELECT pgmq.bind_topic('svc' || i || '.*.created', 'tb_one_' || i) FROM generate_series(1, 100) i;
-- 100 more queues all bound to one pattern: a key reaches every one of them
SELECT pgmq.create('tb_all_' || i) FROM generate_series(1, 100) i;
SELECT pgmq.bind_topic('fan.#', 'tb_all_' || i) FROM generate_series(1, 100) i;
SQL

run() { # label, sql: the best of five pgbench runs (the least disturbed by other load)
    echo "$2" >"$tmp/script.sql"
    local tps r
    tps="$(for r in 1 2 3 4 5; do
        pgbench -n -M prepared -c 1 -t "$TXNS" -f "$tmp/script.sql" 2>&1 |
            sed -n 's/^tps = \([0-9.]*\).*/\1/p'
    done | sort -n | tail -n 1)"
    awk -v l="$1" -v t="$tps" 'BEGIN { printf "%-58s %8.0f calls/s  %7.1f us/call\n", l, t, 1e6 / t }'
}

echo "200 bindings in pgmq.topic_bindings; best of 5 runs of $TXNS calls, 1 client"
run "send (plain queue, baseline)" "SELECT pgmq.send('tb_plain', '{\"n\": 1}');"
run "send (queue with insert notifications, 250 ms)" "SELECT pgmq.send('tb_notify', '{\"n\": 1}');"
run "test_routing, key matching 1 of 200 bindings" "SELECT count(*) FROM pgmq.test_routing('svc50.eu.created');"
run "send_topic, key matching no binding" "SELECT pgmq.send_topic('nobody.eu.created', '{\"n\": 1}');"
run "send_topic, key matching 1 binding (1 queue)" "SELECT pgmq.send_topic('svc50.eu.created', '{\"n\": 1}');"
run "regex lookup of the same key (what C matching avoids)" \
    "SELECT count(DISTINCT queue_name) FROM pgmq.topic_bindings WHERE 'svc50.eu.created' ~ compiled_regex;"
TXNS=$((TXNS / 10)) run "send_topic, key matching 100 bindings (100 queues)" "SELECT pgmq.send_topic('fan.x', '{\"n\": 1}');"
TXNS=$((TXNS / 10)) run "send_batch_topic 10 msgs x 100 queues" \
    "SELECT count(*) FROM pgmq.send_batch_topic('fan.x', array_fill('{\"n\": 1}'::jsonb, ARRAY[10]));"

psql_q -c "SELECT count(pgmq.drop_queue(queue_name)) AS dropped FROM pgmq.list_queues() WHERE queue_name LIKE 'tb\\_%'" >/dev/null
