#!/usr/bin/env bash
# test/bench/features_instr.sh: instructions per call (callgrind) of the
# issue 16 features next to the plain operation each extends -- a measure
# the load of a shared machine does not move, unlike the latencies of
# test/bench/features.sh.  Starts a throwaway cluster under valgrind
# --tool=callgrind (as test/bench/instructions.sh does: binaries from
# PG_CONFIG or PATH, pgmq preloaded, autovacuum and the queue vacuum worker
# off), runs each case with pgbench for 20 and for N+20 transactions and
# prints (Ir(N+20) - Ir(20)) / N of the backend that ran it: what one call
# and its commit cost the server.  Takes a few minutes.  N defaults to 200;
# ONLY="read_multi dedup dedup_topic retention priorities" picks sections.
set -euo pipefail
N="${N:-200}"
ONLY="${ONLY:-read_multi dedup dedup_topic retention priorities}"
INSTR_SCRIPT=features_instr.sh
INSTR_TMP=/tmp/pgmq-finstr.XXXXXXXX
source "$(dirname "${BASH_SOURCE[0]}")/lib_instr.sh"

FILL=$(((N + 20) * 2 * 10 + 100))
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE EXTENSION pgmq;
SELECT pgmq.create(q) FROM unnest(ARRAY['fi_plain', 'fi_m1', 'fi_m2', 'fi_m3', 'fi_send', 'fi_dedup',
                                        'fi_ret', 'fi_p_mix', 'fi_p_low', 'fi_p_hid',
                                        'fi_t_send', 'fi_t_dedup']) q;
SELECT pgmq.set_dedup_window('fi_dedup', 300);
-- topic sends: one binding per key, to a queue without and one with a window
SELECT pgmq.set_dedup_window('fi_t_dedup', 300);
SELECT pgmq.bind_topic('fi.send', 'fi_t_send');
SELECT pgmq.bind_topic('fi.dedup', 'fi_t_dedup');
SELECT pgmq.set_retention('fi_ret', '1 day', NULL);
SELECT pgmq.enable_priorities(q) FROM unnest(ARRAY['fi_p_mix', 'fi_p_low', 'fi_p_hid']) q;
SELECT pgmq.send_batch(q, array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]))
  FROM unnest(ARRAY['fi_plain', 'fi_m1', 'fi_m2', 'fi_m3', 'fi_ret', 'fi_p_low', 'fi_p_hid']) q;
-- fi_p_hid: visible messages of priority 0 only, 300 delayed ones at each of 1-9
SELECT pgmq.send_batch('fi_p_hid', array_fill('{"n": 1}'::jsonb, ARRAY[2700]),
    ARRAY(SELECT jsonb_build_object('x-pgmq-priority', 1 + i % 9) FROM generate_series(1, 2700) i), 86400);
SELECT pgmq.send_batch('fi_p_mix', array_fill('{"n": 1}'::jsonb, ARRAY[$FILL]),
    ARRAY(SELECT jsonb_build_object('x-pgmq-priority', (random() * 9)::int) FROM generate_series(1, $FILL)));
VACUUM ANALYZE;
SQL

# ir SCRIPT TRANSACTIONS: instructions of the backend that ran the script
ir() {
    local before f
    before="$(ls "$WORK/out")"
    pgbench -n -M prepared -c 1 -t "$2" -f "$1" >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log" >&2; exit 1; }
    sleep 3 # the backend writes its profile as it exits
    f="$(cd "$WORK/out" && comm -13 <(echo "$before") <(ls) | xargs ls -S | head -n 1)"
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$WORK/out/$f"
}

# per_call SQL: instructions of one transaction running SQL
per_call() {
    local script small big
    script="$WORK/case.$RANDOM.sql"
    printf '%s\n' "$1" >"$script"
    chmod 644 "$script"
    small="$(ir "$script" 20)"
    big="$(ir "$script" $((N + 20)))"
    echo $(((big - small) / N))
}

pair() { # label_a sql_a label_b sql_b
    local a b
    a="$(per_call "$2")"
    b="$(per_call "$4")"
    awk -v la="$1" -v lb="$3" -v a="$a" -v b="$b" 'BEGIN {
        printf "  %-50s %9d Ir/call\n", la, a
        printf "  %-50s %9d Ir/call   x%.2f\n", lb, b, b / a }'
}

on() { [[ " $ONLY " == *" $1 "* ]]; }

echo "instructions per call including its commit (callgrind, $N calls)"
per_call "SELECT 1;" >/dev/null   # the first connection's profile is not a backend's alone
if on read_multi; then
echo "-- read_multi"
pair "read 1 (plain)" "SELECT count(*) FROM pgmq.read('fi_plain', 3600, 1);" \
     "read_multi 1 over 3 queues" "SELECT count(*) FROM pgmq.read_multi(ARRAY['fi_m1', 'fi_m2', 'fi_m3'], 3600, 1);"
fi
if on dedup; then
echo "-- deduplication"
pair "send, headers with another key" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fi_send\', \'{}\', jsonb_build_object(\'k\', :id::text));' \
     "send, dedup queue, new x-pgmq-dedup-id" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fi_dedup\', \'{}\', jsonb_build_object(\'x-pgmq-dedup-id\', :id::text));'
pair "send, headers with another key" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send(\'fi_send\', \'{}\', jsonb_build_object(\'k\', :id::text));' \
     "send, dedup queue, repeated x-pgmq-dedup-id" \
     "SELECT pgmq.send('fi_dedup', '{}', '{\"x-pgmq-dedup-id\": \"same\"}'::jsonb);"
fi
if on dedup_topic; then
echo "-- deduplication of topic sends (one binding, one queue)"
T_OTHER=$'\\set id random(1, 2000000000)\nSELECT pgmq.send_topic(\'fi.send\', \'{}\', jsonb_build_object(\'k\', :id::text), 0);'
# the first runs into the fresh queue cost ~5k less than the later ones: warm it up
per_call "$T_OTHER" >/dev/null
pair "send_topic, headers with another key" "$T_OTHER" \
     "send_topic, no window, new x-pgmq-dedup-id" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send_topic(\'fi.send\', \'{}\', jsonb_build_object(\'x-pgmq-dedup-id\', :id::text), 0);'
pair "send_topic, headers with another key" "$T_OTHER" \
     "send_topic, window, new x-pgmq-dedup-id" \
     $'\\set id random(1, 2000000000)\nSELECT pgmq.send_topic(\'fi.dedup\', \'{}\', jsonb_build_object(\'x-pgmq-dedup-id\', :id::text), 0);'
pair "send_topic, headers with another key" "$T_OTHER" \
     "send_topic, window, repeated x-pgmq-dedup-id" \
     "SELECT pgmq.send_topic('fi.dedup', '{}', '{\"x-pgmq-dedup-id\": \"same\"}'::jsonb, 0);"
fi
if on retention; then
echo "-- retention"
pair "read 1 (plain)" "SELECT count(*) FROM pgmq.read('fi_plain', 3600, 1);" \
     "read 1, message retention" "SELECT count(*) FROM pgmq.read('fi_ret', 3600, 1);"
fi
if on priorities; then
echo "-- priorities"
pair "read 1 (plain)" "SELECT count(*) FROM pgmq.read('fi_plain', 3600, 1);" \
     "read 1, prioritised, priorities 0-9 mixed" "SELECT count(*) FROM pgmq.read('fi_p_mix', 3600, 1);"
pair "read 1 (plain)" "SELECT count(*) FROM pgmq.read('fi_plain', 3600, 1);" \
     "read 1, prioritised, all priority 0" "SELECT count(*) FROM pgmq.read('fi_p_low', 3600, 1);"
pair "read 1 (plain)" "SELECT count(*) FROM pgmq.read('fi_plain', 3600, 1);" \
     "read 1, prioritised, 0 visible, 1-9 delayed" "SELECT count(*) FROM pgmq.read('fi_p_hid', 3600, 1);"
fi
