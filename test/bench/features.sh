#!/usr/bin/env bash
# test/bench/features.sh: the cost of the opt-in features of issue 16 next
# to the plain operation each one extends (per-call latency).  Uses pgbench
# from PATH against PGHOST/PGPORT/PGUSER/PGDATABASE; one client, TXNS calls
# per run (default 1000), the best of five runs per case (the least
# disturbed by other load on a shared machine).  Creates queues named fb_*
# and drops them at the end.
set -euo pipefail
TXNS="${TXNS:-1000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -o /dev/null "$@"; }

# enough visible messages for every read of every run (5 runs x TXNS calls,
# up to 10 messages a call)
FILL=$((TXNS * 5 * 10 + 1000))
psql_q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create(q) FROM unnest(ARRAY['fb_plain', 'fb_m1', 'fb_m2', 'fb_m3', 'fb_send', 'fb_dedup']) q;
SELECT pgmq.set_dedup_window('fb_dedup', 300);
SELECT pgmq.send_batch(q, array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]))
  FROM unnest(ARRAY['fb_plain', 'fb_m1', 'fb_m2', 'fb_m3']) q;
VACUUM ANALYZE pgmq.q_fb_plain, pgmq.q_fb_m1, pgmq.q_fb_m2, pgmq.q_fb_m3;
SQL

run() { # label, sql (may be several lines: pgbench meta-commands first)
    printf '%s\n' "$2" >"$tmp/script.sql"
    local tps r
    tps="$(for r in 1 2 3 4 5; do
        pgbench -n -M prepared -c 1 -t "$TXNS" -f "$tmp/script.sql" 2>&1 |
            sed -n 's/^tps = \([0-9.]*\).*/\1/p'
    done | sort -n | tail -n 1)"
    awk -v l="$1" -v t="$tps" 'BEGIN { printf "%-58s %8.0f calls/s  %7.1f us/call\n", l, t, 1e6 / t }'
}

echo "best of 5 runs of $TXNS calls, 1 client"
echo "-- read_multi"
run "read 1 (plain, one queue, baseline)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 1);"
run "read_multi 1 over 1 queue" "SELECT count(*) FROM pgmq.read_multi(ARRAY['fb_m1'], 3600, 1);"
run "read_multi 1 over 3 queues" "SELECT count(*) FROM pgmq.read_multi(ARRAY['fb_m1', 'fb_m2', 'fb_m3'], 3600, 1);"
run "read 10 (plain, one queue, baseline)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 10);"
run "read_multi 10 over 3 queues" "SELECT count(*) FROM pgmq.read_multi(ARRAY['fb_m1', 'fb_m2', 'fb_m3'], 3600, 10);"

echo "-- deduplication (ids are random: a new id per call)"
run "send, headers with another key (baseline)" \
    $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fb_send\', \'{"n": 1}\', jsonb_build_object(\'k\', :id::text));'
run "send, dedup queue, new x-pgmq-dedup-id" \
    $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fb_dedup\', \'{"n": 1}\', jsonb_build_object(\'x-pgmq-dedup-id\', :id::text));'
run "send, dedup queue, repeated x-pgmq-dedup-id" \
    "SELECT pgmq.send('fb_dedup', '{\"n\": 1}', '{\"x-pgmq-dedup-id\": \"same\"}'::jsonb);"
run "send, no headers (baseline)" "SELECT pgmq.send('fb_send', '{\"n\": 1}');"
run "send, no headers, dedup queue" "SELECT pgmq.send('fb_dedup', '{\"n\": 1}');"

psql_q -c "SELECT count(pgmq.drop_queue(queue_name)) FROM pgmq.list_queues() WHERE queue_name LIKE 'fb\\_%'"
