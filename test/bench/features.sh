#!/usr/bin/env bash
# test/bench/features.sh: the cost of the opt-in features of issue 16 next
# to the plain operation each one extends (per-call latency).  Uses pgbench
# from PATH against PGHOST/PGPORT/PGUSER/PGDATABASE; one client, TXNS calls
# per run (default 1000); each pair runs five rounds of baseline then
# feature, and keeps the best run of each (the least disturbed by other load
# on a shared machine).  Creates queues named fb_*
# and drops them at the end.
set -euo pipefail
TXNS="${TXNS:-1000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -o /dev/null "$@"; }

# enough visible messages for every read of every run (5 runs x TXNS calls
# per pair; fb_plain is the baseline of several pairs: 25 messages a call)
FILL=$((TXNS * 5 * 11 + 1000))
FILL_PLAIN=$((TXNS * 5 * 25 + 1000))
psql_q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create(q) FROM unnest(ARRAY['fb_plain', 'fb_m1', 'fb_m2', 'fb_m3', 'fb_send', 'fb_dedup',
                                        'fb_ret', 'fb_p_mix', 'fb_p_low', 'fb_p_high']) q;
SELECT pgmq.set_dedup_window('fb_dedup', 300);
SELECT pgmq.set_retention('fb_ret', '1 day', NULL);
SELECT pgmq.send_batch('fb_ret', array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]));
-- prioritised queues: every priority mixed at random, all 0 (absent), all 9
SELECT pgmq.enable_priorities(q) FROM unnest(ARRAY['fb_p_mix', 'fb_p_low', 'fb_p_high']) q;
SELECT pgmq.send_batch('fb_p_mix', array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]),
    ARRAY(SELECT jsonb_build_object('x-pgmq-priority', (random() * 9)::int) FROM generate_series(1, $FILL)));
SELECT pgmq.send_batch('fb_p_low', array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]));
SELECT pgmq.send_batch('fb_p_high', array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]),
    array_fill('{"x-pgmq-priority": 9}'::jsonb, ARRAY[$FILL]));
VACUUM ANALYZE pgmq.q_fb_ret, pgmq.q_fb_p_mix, pgmq.q_fb_p_low, pgmq.q_fb_p_high;
SELECT pgmq.send_batch(q, array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]))
  FROM unnest(ARRAY['fb_m1', 'fb_m2', 'fb_m3']) q;
SELECT pgmq.send_batch('fb_plain', array_fill('{"n": 1}'::jsonb, ARRAY[$FILL_PLAIN]));
VACUUM ANALYZE pgmq.q_fb_plain, pgmq.q_fb_m1, pgmq.q_fb_m2, pgmq.q_fb_m3;
SQL

once() { # sql file: calls per second of one pgbench run
    pgbench -n -M prepared -c 1 -t "$TXNS" -f "$1" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# pair label_a sql_a label_b sql_b: five rounds, each running both cases one
# after the other (so both see the same load), the best run of each; prints
# both and the ratio of their per-call times.
pair() {
    printf '%s\n' "$2" >"$tmp/a.sql"
    printf '%s\n' "$4" >"$tmp/b.sql"
    local r ta tb best_a=0 best_b=0
    for r in 1 2 3 4 5; do
        ta="$(once "$tmp/a.sql")"
        tb="$(once "$tmp/b.sql")"
        best_a="$(awk -v x="$ta" -v y="$best_a" 'BEGIN { print (x > y) ? x : y }')"
        best_b="$(awk -v x="$tb" -v y="$best_b" 'BEGIN { print (x > y) ? x : y }')"
    done
    awk -v la="$1" -v lb="$3" -v a="$best_a" -v b="$best_b" 'BEGIN {
        printf "  %-56s %7.1f us/call\n", la, 1e6 / a
        printf "  %-56s %7.1f us/call   x%.2f\n", lb, 1e6 / b, a / b }'
}

echo "best of 5 interleaved runs of $TXNS calls each, 1 client; xN = cost relative to the first line"
echo "-- read_multi"
pair "read 1 (plain, one queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 1);" \
     "read_multi 1 over 3 queues" "SELECT count(*) FROM pgmq.read_multi(ARRAY['fb_m1', 'fb_m2', 'fb_m3'], 3600, 1);"
pair "read 10 (plain, one queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 10);" \
     "read_multi 10 over 3 queues" "SELECT count(*) FROM pgmq.read_multi(ARRAY['fb_m1', 'fb_m2', 'fb_m3'], 3600, 10);"
echo "-- deduplication (ids random: a new id per call)"
pair "send, headers with another key (plain queue)" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fb_send\', \'{"n": 1}\', jsonb_build_object(\'k\', :id::text));' \
     "send, dedup queue, new x-pgmq-dedup-id" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fb_dedup\', \'{"n": 1}\', jsonb_build_object(\'x-pgmq-dedup-id\', :id::text));'
pair "send, headers with another key (plain queue)" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fb_send\', \'{"n": 1}\', jsonb_build_object(\'k\', :id::text));' \
     "send, dedup queue, repeated x-pgmq-dedup-id" \
     "SELECT pgmq.send('fb_dedup', '{\"n\": 1}', '{\"x-pgmq-dedup-id\": \"same\"}'::jsonb);"
pair "send, no headers (plain queue)" "SELECT pgmq.send('fb_send', '{\"n\": 1}');" \
     "send, no headers, dedup queue" "SELECT pgmq.send('fb_dedup', '{\"n\": 1}');"
echo "-- retention (nothing expired: the cost of the filtered read path)"
pair "read 1 (plain queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 1);" \
     "read 1, queue with a message retention" "SELECT count(*) FROM pgmq.read('fb_ret', 3600, 1);"
echo "-- priorities"
pair "read 1 (plain queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 1);" \
     "read 1, prioritised, priorities 0-9 mixed" "SELECT count(*) FROM pgmq.read('fb_p_mix', 3600, 1);"
pair "read 1 (plain queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 1);" \
     "read 1, prioritised, all priority 0 (10 probes)" "SELECT count(*) FROM pgmq.read('fb_p_low', 3600, 1);"
pair "read 1 (plain queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 1);" \
     "read 1, prioritised, all priority 9 (1 probe)" "SELECT count(*) FROM pgmq.read('fb_p_high', 3600, 1);"
pair "read 10 (plain queue)" "SELECT count(*) FROM pgmq.read('fb_plain', 3600, 10);" \
     "read 10, prioritised, priorities 0-9 mixed" "SELECT count(*) FROM pgmq.read('fb_p_mix', 3600, 10);"

psql_q -c "SELECT count(pgmq.drop_queue(queue_name)) FROM pgmq.list_queues() WHERE queue_name LIKE 'fb\\_%'"
