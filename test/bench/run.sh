#!/usr/bin/env bash
# test/bench/run.sh owns the benchmark behind `make bench`: pgmq operations
# against their raw-SQL physical limit, the delayed / in-flight scenarios and
# the churn run, written to bench_results/ as markdown, CSV and a PNG chart.
#
# Run by test/harness.sh (`make bench`) against a throwaway cluster that has
# pgmq installed and preloaded; needs PGHOST/PGPORT/PGUSER (and pgbench, psql,
# gnuplot on PATH).  Every pgbench run uses -M prepared.
#
# Parts (BENCH_PARTS, default "ops scenarios churn latency"):
#   ops        every operation at 1 and 4 clients; beside it, interleaved
#              (pgmq, raw, raw, pgmq, ...), the same work as plain prepared SQL
#              on bench.raw_q, a table shaped exactly like the queue table.
#              Both tables start each run freshly vacuumed and no vacuum runs
#              during the runs (autovacuum off on both, the queue vacuum
#              worker paused), so a row compares the statements alone
#   scenarios  read + delete on a plain queue, one with 200,000 delayed
#              messages ahead of the visible ones, one with 20,000 in flight
#   churn      pop at 4 clients while a producer keeps the queue at ~10,000
#   latency    test/bench/latency.sh, when it exists
#
# Environment (durations in seconds):
#   BENCH_SECONDS=3        length of one pgbench run in "ops" and "scenarios"
#   BENCH_ROUNDS=3         A/B rounds per (operation, clients); a row shows the medians
#   BENCH_CLIENTS="1 4"    client counts
#   BENCH_OPS="send send_batch read_delete read_archive pop pop10 read10_delete10"
#   SCENARIO_SECONDS       length of one scenario run (default BENCH_SECONDS)
#   SCENARIO_DELAYED=200000  SCENARIO_INFLIGHT=20000
#   CHURN_SECONDS=300  CHURN_WINDOW=30  CHURN_LEVEL=10000  CHURN_CLIENTS=4
#   BENCH_RESULTS=<repo>/bench_results   output folder
#   BENCH_CHECKPOINT=1     CHECKPOINT before every measured run (same start for A and B)
#   LATENCY_TRIALS=300 LATENCY_WAITERS=500 LATENCY_QUEUES=100  passed to latency.sh
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/../.." && pwd)"
SQL="$BENCH_DIR/sql"
OUT="${BENCH_RESULTS:-$REPO/bench_results}"
PARTS="${BENCH_PARTS:-ops scenarios churn latency}"
RUN_SECONDS="${BENCH_SECONDS:-3}"
ROUNDS="${BENCH_ROUNDS:-3}"
CLIENTS="${BENCH_CLIENTS:-1 4}"
OPS="${BENCH_OPS:-send send_batch read_delete read_archive pop pop10 read10_delete10}"
SCEN_SECONDS="${SCENARIO_SECONDS:-$RUN_SECONDS}"
SCEN_DELAYED="${SCENARIO_DELAYED:-200000}"
SCEN_INFLIGHT="${SCENARIO_INFLIGHT:-20000}"
CHURN_SECONDS="${CHURN_SECONDS:-300}"
CHURN_WINDOW="${CHURN_WINDOW:-30}"
CHURN_LEVEL="${CHURN_LEVEL:-10000}"
CHURN_CLIENTS="${CHURN_CLIENTS:-4}"
CHECKPOINT="${BENCH_CHECKPOINT:-1}"
FILL_FIRST=100000 # messages in a consumer's queue before its first run
FILL_MIN=20000

: "${PGHOST:?PGHOST must be set (run through make bench)}"
: "${PGPORT:?PGPORT must be set}"
export PGDATABASE="${PGDATABASE:-postgres}"
for tool in psql pgbench; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH" >&2; exit 1; }
done

has_part() { [[ " $PARTS " == *" $1 "* ]]; }
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.log "$OUT"/results.md "$OUT"/chart.png "$OUT"/churn_log.*
BENCH_START=$(date +%s)
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# ~100-byte message, and the 100-element jsonb[] literal send_batch gets.
MSG='{"event":"order.created","order_id":123456,"customer":"c-004217","amount":129.95,"currency":"EUR"}'
BATCH="{$(
    esc="\"${MSG//\"/\\\"}\""
    for i in $(seq 100); do printf '%s%s' "$([[ $i -gt 1 ]] && echo ,)" "$esc"; done
)}"

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# median of the numbers given as arguments
median() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------------------
# pgbench: run_pgbench SCRIPT CLIENTS SECONDS [pgbench args...]; prints tps,
# fails when pgbench does (a client aborted, e.g. a read found no message).
run_pgbench() {
    local script="$1" clients="$2" secs="$3" outf rc=0
    shift 3
    outf="$(mktemp)"
    pgbench -n -M prepared -c "$clients" -j "$((clients < 2 ? clients : 2))" -T "$secs" \
        -D q=bench -D "msg=$MSG" -D "batch=$BATCH" "$@" -f "$SQL/$script" >"$outf" 2>&1 || rc=$?
    if [[ "$rc" -ne 0 ]] || ! grep -q '^tps = ' "$outf"; then
        cat "$outf" >>"$OUT/pgbench_errors.log"
        rm -f "$outf"
        return 1
    fi
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$outf" | head -n 1
    rm -f "$outf"
}

# Shared setup: the queue, and its raw twin with the same columns, defaults,
# identity, indexes and storage settings.
setup_tables() {
    q >/dev/null <<'EOF'
SELECT pgmq.create('bench');
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;
CREATE TABLE bench.raw_q (LIKE pgmq.q_bench INCLUDING ALL);
CREATE TABLE bench.raw_a (LIKE pgmq.a_bench INCLUDING ALL);
SELECT format('ALTER TABLE bench.raw_q SET (%s)', array_to_string(reloptions, ', '))
  FROM pg_class WHERE oid = 'pgmq.q_bench'::regclass AND reloptions IS NOT NULL \gexec
-- the same maintenance on both sides: none while a row is measured
ALTER TABLE pgmq.q_bench SET (autovacuum_enabled = false);
ALTER TABLE bench.raw_q SET (autovacuum_enabled = false);
ALTER TABLE pgmq.a_bench SET (autovacuum_enabled = false);
ALTER TABLE bench.raw_a SET (autovacuum_enabled = false);
ALTER SYSTEM SET pgmq.vacuum_interval = 0;
SELECT pg_reload_conf();
EOF
}

# Back to the defaults for the parts that measure pgmq as users get it.
restore_maintenance() {
    q >/dev/null <<'EOF'
ALTER SYSTEM RESET pgmq.vacuum_interval;
SELECT pg_reload_conf();
SELECT pgmq.drop_queue('bench');
DROP SCHEMA bench CASCADE;
EOF
}

# Start a side from the same state: empty tables, FILL visible messages,
# vacuumed and analyzed, (optionally) right after a checkpoint.
prepare_side() { # side fill
    local t a
    if [[ "$1" == pgmq ]]; then t=pgmq.q_bench a=pgmq.a_bench; else t=bench.raw_q a=bench.raw_a; fi
    q -v msg="$MSG" <<EOF
TRUNCATE $t, $a;
INSERT INTO $t (vt, message) SELECT now(), :'msg'::jsonb FROM generate_series(1, $2);
VACUUM (ANALYZE) $t;
VACUUM (ANALYZE) $a;
EOF
    if [[ "$CHECKPOINT" == 1 ]]; then q -c CHECKPOINT; fi
}

visible_left() { # side
    local t
    if [[ "$1" == pgmq ]]; then t=pgmq.q_bench; else t=bench.raw_q; fi
    q -c "SELECT count(*) FROM (SELECT 1 FROM $t WHERE vt <= now() LIMIT 1000) s"
}

# Operation table: name|label|messages per transaction|consumer (needs a filled queue)
op_info() {
    case "$1" in
        send) echo "send|send|1|0" ;;
        send_batch) echo "send_batch|send_batch (100)|100|0" ;;
        read_delete) echo "read_delete|read + delete|1|1" ;;
        read_archive) echo "read_archive|read + archive|1|1" ;;
        pop) echo "pop|pop|1|1" ;;
        pop10) echo "pop10|pop (10)|10|1" ;;
        read10_delete10) echo "read10_delete10|read (10) + delete (10 ids)|10|1" ;;
        *) die "unknown operation '$1'" ;;
    esac
}

# One measured run of a side, refilling and retrying when a consumer ran its
# queue dry (then the run would have measured empty reads).  Prints tps.
measure_side() { # side op clients fill consumer
    local side="$1" op="$2" clients="$3" fill="$4" consumer="$5" tps left
    for _ in 1 2 3 4; do
        prepare_side "$side" "$([[ "$consumer" == 1 ]] && echo "$fill" || echo 0)"
        if tps="$(run_pgbench "${side}_${op}.sql" "$clients" "$RUN_SECONDS")"; then
            if [[ "$consumer" == 0 ]]; then echo "$tps"; return 0; fi
            left="$(visible_left "$side")"
            if [[ "$left" -gt 0 ]]; then echo "$tps"; return 0; fi
        fi
        fill=$((fill * 2))
        log "  $side $op c=$clients ran dry or failed; again with $fill messages"
    done
    die "$side $op at $clients clients failed 4 times (see $OUT/pgbench_errors.log)"
}

# ---------------------------------------------------------------------------
run_ops() {
    local op info label per consumer c r side sides tps fill need
    local -A vals need_fill
    echo "op,label,clients,round,side,tps" >"$OUT/ops_runs.csv"
    echo "op,label,clients,pgmq_tps,raw_tps,ratio,pgmq_msgs,raw_msgs" >"$OUT/ops.csv"
    for op in $OPS; do
        info="$(op_info "$op")"
        IFS='|' read -r _ label per consumer <<<"$info"
        for c in $CLIENTS; do
            vals[pgmq]="" vals[raw]=""
            for r in $(seq "$ROUNDS"); do
                # both sides of a round start from the same queue depth; who
                # goes first alternates (pgmq, raw, raw, pgmq, ...) so that a
                # drift in the machine's load favours neither
                fill="${need_fill[$op]:-$FILL_FIRST}"
                sides="pgmq raw"
                if ((r % 2 == 0)); then sides="raw pgmq"; fi
                for side in $sides; do
                    tps="$(measure_side "$side" "$op" "$c" "$fill" "$consumer")"
                    echo "$op,$label,$c,$r,$side,$tps" >>"$OUT/ops_runs.csv"
                    vals[$side]+=" $tps"
                    need="$(awk -v t="$tps" -v p="$per" -v s="$RUN_SECONDS" -v m="$FILL_MIN" \
                        'BEGIN{n=int(t*p*s*1.5)+1000; if(n<m)n=m; print n}')"
                    if [[ "$need" -gt "${need_fill[$op]:-0}" ]]; then need_fill[$op]="$need"; fi
                    log "$label c=$c round $r $side: $tps tps"
                done
            done
            # shellcheck disable=SC2086  # the lists split on purpose
            awk -v op="$op" -v l="$label" -v c="$c" -v a="$(median ${vals[pgmq]})" \
                -v b="$(median ${vals[raw]})" -v p="$per" 'BEGIN{
                    printf "%s,%s,%d,%.0f,%.0f,%.3f,%.0f,%.0f\n", op, l, c, a, b, (b>0?a/b:0), a*p, b*p }' \
                >>"$OUT/ops.csv"
        done
    done
}

# ---------------------------------------------------------------------------
# Scenarios: read + delete on three queues, interleaved.
scenario_topup() { # queue fill: make FILL visible messages, vacuum
    q -v msg="$MSG" <<EOF
INSERT INTO pgmq.q_$1 (vt, message)
SELECT now(), :'msg'::jsonb
  FROM generate_series(1, greatest(0, $2 - (SELECT count(*) FROM pgmq.q_$1 WHERE vt <= now())));
VACUUM (ANALYZE) pgmq.q_$1;
EOF
    if [[ "$CHECKPOINT" == 1 ]]; then q -c CHECKPOINT; fi
}

run_scenarios() {
    local name c r tps fill=$FILL_FIRST need left ok
    local -A vals
    log "scenario setup: $SCEN_DELAYED delayed, $SCEN_INFLIGHT in flight"
    q -v msg="$MSG" >/dev/null <<EOF
SELECT pgmq.create('sc_plain'), pgmq.create('sc_delayed'), pgmq.create('sc_inflight');
-- delayed messages sent first (lowest msg_ids), visible in an hour
SELECT count(*) FROM generate_series(1, ceil($SCEN_DELAYED / 10000.0)::int) g,
       pgmq.send_batch('sc_delayed',
                       array_fill(:'msg'::jsonb, ARRAY[least(10000, $SCEN_DELAYED - (g - 1) * 10000)]),
                       3600);
-- in-flight messages: sent, then read with a visibility timeout of an hour
SELECT count(*) FROM pgmq.send_batch('sc_inflight', array_fill(:'msg'::jsonb, ARRAY[$SCEN_INFLIGHT]));
SELECT count(*) FROM pgmq.read('sc_inflight', 3600, $SCEN_INFLIGHT);
EOF
    echo "scenario,clients,round,tps" >"$OUT/scenario_runs.csv"
    echo "scenario,clients,tps,vs_plain" >"$OUT/scenarios.csv"
    for c in $CLIENTS; do
        vals[plain]="" vals[delayed]="" vals[inflight]=""
        for r in $(seq "$ROUNDS"); do
            for name in plain delayed inflight; do
                ok=0
                for _ in 1 2 3 4; do
                    scenario_topup "sc_$name" "$fill"
                    if tps="$(run_pgbench pgmq_read_delete.sql "$c" "$SCEN_SECONDS" -D "q=sc_$name")"; then
                        left="$(q -c "SELECT count(*) FROM (SELECT 1 FROM pgmq.q_sc_$name WHERE vt <= now() LIMIT 1000) s")"
                        if [[ "$left" -gt 0 ]]; then ok=1; break; fi
                    fi
                    fill=$((fill * 2))
                    log "  scenario $name c=$c ran dry or failed; again with $fill messages"
                done
                [[ "$ok" == 1 ]] || die "scenario $name at $c clients failed 4 times"
                need="$(awk -v t="$tps" -v s="$SCEN_SECONDS" 'BEGIN{print int(t*s*1.5)+1000}')"
                if [[ "$need" -gt "$fill" ]]; then fill="$need"; fi
                echo "$name,$c,$r,$tps" >>"$OUT/scenario_runs.csv"
                vals[$name]+=" $tps"
                log "scenario $name c=$c round $r: $tps tps"
            done
        done
        for name in plain delayed inflight; do
            # shellcheck disable=SC2086
            awk -v s="$name" -v c="$c" -v a="$(median ${vals[$name]})" -v p="$(median ${vals[plain]})" \
                'BEGIN{printf "%s,%d,%.0f,%.3f\n", s, c, a, (p>0?a/p:0)}' >>"$OUT/scenarios.csv"
        done
    done
    q -c "SELECT pgmq.drop_queue('sc_plain'), pgmq.drop_queue('sc_delayed'), pgmq.drop_queue('sc_inflight')" >/dev/null
}

# ---------------------------------------------------------------------------
# Churn: pop at CHURN_CLIENTS clients for CHURN_SECONDS while a producer keeps
# the queue at ~CHURN_LEVEL; a sampler records the table every window.
churn_sample() { # elapsed-seconds
    q -F, -c "SELECT $1, s.n_tup_del, s.n_dead_tup, (SELECT count(*) FROM pgmq.q_churn),
                     pg_relation_size('pgmq.q_churn'), pg_relation_size('pgmq.q_churn_pkey'),
                     pg_relation_size('pgmq.q_churn_vt_idx'), s.autovacuum_count, s.vacuum_count
                FROM pg_stat_user_tables s WHERE s.relid = 'pgmq.q_churn'::regclass"
}

run_churn() {
    local prod_pid samp_pid rc=0 w
    log "churn: pop at $CHURN_CLIENTS clients for ${CHURN_SECONDS}s, queue kept at ~$CHURN_LEVEL"
    q -v msg="$MSG" >/dev/null <<EOF
SELECT pgmq.create('churn');
SELECT count(*) FROM pgmq.send_batch('churn', array_fill(:'msg'::jsonb, ARRAY[$CHURN_LEVEL]));
VACUUM (ANALYZE) pgmq.q_churn;
CHECKPOINT;
EOF
    echo "elapsed_s,n_tup_del,n_dead_tup,queue_length,heap_bytes,pkey_bytes,vt_idx_bytes,autovacuum_count,vacuum_count" \
        >"$OUT/churn_samples.csv"
    # the stats system reports n_tup_del at most once a second per backend
    q -c "SELECT pg_stat_force_next_flush()" >/dev/null
    churn_sample 0 >>"$OUT/churn_samples.csv"

    pgbench -n -M prepared -c 1 -j 1 -T "$((CHURN_SECONDS + 2))" -D q=churn -D "msg=$MSG" \
        -D "level=$CHURN_LEVEL" -f "$SQL/churn_producer.sql" >"$OUT/churn_producer.log" 2>&1 &
    prod_pid=$!
    (
        for w in $(seq "$CHURN_WINDOW" "$CHURN_WINDOW" "$CHURN_SECONDS"); do
            sleep "$CHURN_WINDOW"
            churn_sample "$w" >>"$OUT/churn_samples.csv" || true
        done
    ) &
    samp_pid=$!
    pgbench -n -M prepared -c "$CHURN_CLIENTS" -j 1 -T "$CHURN_SECONDS" -D q=churn \
        -l --aggregate-interval="$CHURN_WINDOW" --log-prefix="$OUT/churn_log" \
        -f "$SQL/churn_pop.sql" >"$OUT/churn_consumer.log" 2>&1 || rc=$?
    wait "$samp_pid" || true
    wait "$prod_pid" || true
    [[ "$rc" -eq 0 ]] || { cat "$OUT/churn_consumer.log" >&2; die "churn consumers failed"; }
    q -c "SELECT pg_sleep(1)" >/dev/null
    q -F, -c "SELECT n_dead_tup, n_live_tup, pg_relation_size('pgmq.q_churn'),
                     pg_indexes_size('pgmq.q_churn'), autovacuum_count, vacuum_count
                FROM pg_stat_user_tables WHERE relid = 'pgmq.q_churn'::regclass" >"$OUT/churn_end.csv"
    # per window: pop calls/s from pgbench, messages/s from n_tup_del
    cat "$OUT"/churn_log.* | sort -n | awk -v w="$CHURN_WINDOW" -v n="$((CHURN_SECONDS / CHURN_WINDOW))" \
        'NR <= n { printf "%d,%.1f\n", (NR-1)*w, $2 / w }' >"$OUT/churn_windows.csv"
    q -c "SELECT pgmq.drop_queue('churn')" >/dev/null
}

# ---------------------------------------------------------------------------
# Report
machine_line() {
    local cpu
    cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    printf '%s, %s cores, %s GiB RAM' "${cpu:-unknown CPU}" "$(nproc)" \
        "$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)"
}

write_report() {
    local md="$OUT/results.md" first last
    {
        echo "# pgmq benchmark"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(machine_line)"
        echo "- $(psql -X -At -c 'SELECT version()' | cut -d, -f1); fsync=off (throwaway cluster); pgbench -M prepared"
        echo "- load average at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- runs: ${RUN_SECONDS}s each, $ROUNDS interleaved rounds per row (pgmq, raw, raw, pgmq, ...), medians shown; ~${#MSG}-byte JSON messages"
        if [[ -s "$OUT/ops.csv" && $(wc -l <"$OUT/ops.csv") -gt 1 ]]; then
            echo
            echo "## Operations against their raw-SQL limit"
            echo
            echo "tps = transactions (pgbench script runs) per second; msg/s = messages per second."
            echo
            echo "| operation | clients | pgmq tps | raw SQL tps | ratio | pgmq msg/s | raw msg/s |"
            echo "|---|---:|---:|---:|---:|---:|---:|"
            tail -n +2 "$OUT/ops.csv" | awk -F, '{printf "| %s | %s | %s | %s | %.2f | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8}'
        fi
        if [[ -s "$OUT/scenarios.csv" && $(wc -l <"$OUT/scenarios.csv") -gt 1 ]]; then
            echo
            echo "## read + delete with invisible messages ahead of the visible ones"
            echo
            echo "| queue | clients | read+delete tps | vs plain |"
            echo "|---|---:|---:|---:|"
            tail -n +2 "$OUT/scenarios.csv" | awk -F, -v d="$SCEN_DELAYED" -v f="$SCEN_INFLIGHT" '{
                n = ($1=="plain") ? "plain" : ($1=="delayed") ? "(a) " d " delayed ahead" : "(b) " f " in flight ahead";
                printf "| %s | %s | %s | %.2f |\n", n, $2, $3, $4}'
        fi
        if [[ -s "$OUT/churn_windows.csv" ]]; then
            first="$(head -n 1 "$OUT/churn_windows.csv" | cut -d, -f2)"
            last="$(tail -n 1 "$OUT/churn_windows.csv" | cut -d, -f2)"
            echo
            echo "## Churn: pop at $CHURN_CLIENTS clients, producer keeping ~$CHURN_LEVEL messages, ${CHURN_SECONDS}s"
            echo
            echo "Sampled at the end of each window: queue length, dead tuples, sizes, and how many"
            echo "times autovacuum and the queue vacuum worker (vacuum_count) had vacuumed the table."
            echo
            echo "| window (s) | pop/s | vs first | queue length | dead tuples | heap MB | pkey MB | vt_idx MB | autovacuums | worker vacuums |"
            echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            awk -F, -v w="$CHURN_WINDOW" -v first="$first" '
                NR==FNR { if (FNR>1) { s[$1]=$0 } ; next }
                { t=$1+w; split(s[t], x, ",");
                  printf "| %d-%d | %.0f | %.2f | %s | %s | %.1f | %.1f | %.1f | %s | %s |\n",
                    $1, t, $2, (first>0?$2/first:0), x[4], x[3], x[5]/1048576, x[6]/1048576, x[7]/1048576, x[8], x[9] }' \
                "$OUT/churn_samples.csv" "$OUT/churn_windows.csv"
            awk -F, -v f="$first" -v l="$last" '{
                printf "\nLast window / first: %.2f. At the end: %s dead tuples, %s live, heap %.1f MB, indexes %.1f MB; %s autovacuums, %s worker vacuums.\n",
                  (f>0?l/f:0), $1, $2, $3/1048576, $4/1048576, $5, $6 }' "$OUT/churn_end.csv"
        fi
        echo
        echo "## Targets"
        echo
        if [[ -s "$OUT/ops.csv" && $(wc -l <"$OUT/ops.csv") -gt 1 ]]; then
            tail -n +2 "$OUT/ops.csv" | awk -F, '
                { if (min == "" || $6 < min) min = $6; if ($6 < 0.90) bad = bad sprintf(" %s at %s clients (%.2f);", $2, $3, $6) }
                END { printf "- pgmq / raw SQL >= 0.90 for every operation: %s (lowest %.2f)%s\n",
                        (bad == "" ? "met" : "NOT met"), min, (bad == "" ? "" : ", below:" bad) }'
        fi
        if [[ -s "$OUT/scenarios.csv" && $(wc -l <"$OUT/scenarios.csv") -gt 1 ]]; then
            tail -n +2 "$OUT/scenarios.csv" | awk -F, '
                $1 != "plain" { if (min == "" || $4 < min) min = $4; if ($4 < 0.8) bad = bad sprintf(" %s at %s clients (%.2f);", $1, $2, $4) }
                END { printf "- read+delete with delayed / in-flight messages ahead >= 0.8 x plain: %s (lowest %.2f)%s\n",
                        (bad == "" ? "met" : "NOT met"), min, (bad == "" ? "" : ", below:" bad) }'
        fi
        if [[ -s "$OUT/churn_windows.csv" ]]; then
            awk -F, -v f="$first" -v l="$last" 'BEGIN {
                printf "- churn, last window >= 0.85 x first: %s (%.2f)\n", (f > 0 && l / f >= 0.85 ? "met" : "NOT met"), (f > 0 ? l / f : 0) }'
        fi
        if [[ -s "$OUT/latency.txt" ]]; then
            echo
            echo "## Long-poll latency (test/bench/latency.sh)"
            echo
            echo '```'
            cat "$OUT/latency.txt"
            echo '```'
        fi
        echo
        echo "Total benchmark time: $(($(date +%s) - BENCH_START)) s."
    } >"$md"
}

write_chart() {
    command -v gnuplot >/dev/null || { log "gnuplot not found: no chart"; return 0; }
    local n=0
    if [[ -s "$OUT/ops.csv" ]]; then
        # one row per operation: ratio at each client count
        awk -F, 'NR>1 { r[$2]=r[$2] " " $6; if (!($2 in seen)) { seen[$2]=1; order[++n]=$2 } }
                 END { for (i=1;i<=n;i++) printf "\"%s\"%s\n", order[i], r[order[i]] }' \
            "$OUT/ops.csv" >"$OUT/chart_ops.dat"
        n=$((n + 1))
    fi
    [[ -s "$OUT/scenarios.csv" ]] && n=$((n + 1))
    [[ -s "$OUT/churn_windows.csv" ]] && n=$((n + 1))
    ((n > 0)) || return 0
    {
        echo "set terminal pngcairo noenhanced size $((n * 560)),480 font 'Sans,9'"
        echo "set output '$OUT/chart.png'"
        echo "set datafile separator whitespace"
        echo "set multiplot layout 1,$n title 'pgmq benchmark ($(date -u +%Y-%m-%d), $(nproc) cores)'"
        if [[ -s "$OUT/chart_ops.dat" ]]; then
            local col=2 using=""
            for c in $CLIENTS; do
                using+="${using:+, }'$OUT/chart_ops.dat' using $col:xtic(1) title '$c client(s)'"
                col=$((col + 1))
            done
            echo "set title 'pgmq / raw SQL throughput'"
            echo "set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1"
            echo "set yrange [0:1.4]; set xtics rotate by -35 scale 0; set grid ytics; set key top left horizontal"
            echo "set arrow 1 from graph 0, first 0.9 to graph 1, first 0.9 nohead dt 2 lc rgb 'red'"
            echo "plot $using"
            echo "unset arrow 1"
        fi
        if [[ -s "$OUT/scenarios.csv" ]]; then
            awk -F, 'NR>1 { v[$1]=v[$1] " " $3; if (!($1 in s)) { s[$1]=1; o[++n]=$1 } }
                     END { for (i=1;i<=n;i++) printf "%s%s\n", o[i], v[o[i]] }' "$OUT/scenarios.csv" \
                >"$OUT/chart_scen.dat"
            local col=2 using=""
            for c in $CLIENTS; do
                using+="${using:+, }'$OUT/chart_scen.dat' using $col:xtic(1) title '$c client(s)'"
                col=$((col + 1))
            done
            echo "set title 'read+delete tps: plain / delayed ahead / in flight ahead'"
            echo "set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1"
            echo "set autoscale y; set yrange [0:*]; set xtics norotate; set grid ytics; set key outside bottom center horizontal"
            echo "plot $using"
        fi
        if [[ -s "$OUT/churn_windows.csv" ]]; then
            echo "set title 'churn: pop/s per ${CHURN_WINDOW}s window, dead tuples'"
            echo "set style data linespoints; set datafile separator ','"
            echo "set xlabel 'seconds'; set ylabel 'pop/s'; set y2label 'dead tuples'"
            echo "set yrange [0:*]; set y2range [0:*]; set y2tics; set xtics norotate auto; set key bottom left"
            echo "plot '$OUT/churn_windows.csv' using (\$1+$CHURN_WINDOW/2):2 title 'pop/s' lw 2, \\"
            echo "     '$OUT/churn_samples.csv' every ::1 using 1:3 axes x1y2 title 'dead tuples'"
        fi
        echo "unset multiplot"
    } >"$OUT/chart.gp"
    gnuplot "$OUT/chart.gp" 2>>"$OUT/gnuplot.log" || log "gnuplot failed (see $OUT/gnuplot.log)"
}

# ---------------------------------------------------------------------------
log "results go to $OUT (load average now: $LOAD_START)"
if has_part ops; then
    setup_tables
    run_ops
    restore_maintenance
fi
if has_part scenarios; then run_scenarios; fi
if has_part churn; then run_churn; fi
if has_part latency && [[ -f "$BENCH_DIR/latency.sh" ]]; then
    log "running test/bench/latency.sh"
    LATENCY_TRIALS="${LATENCY_TRIALS:-300}" LATENCY_WAITERS="${LATENCY_WAITERS:-500}" \
        LATENCY_QUEUES="${LATENCY_QUEUES:-100}" \
        bash "$BENCH_DIR/latency.sh" >"$OUT/latency.txt" 2>&1 ||
        { echo "(latency.sh failed, exit $?)" >>"$OUT/latency.txt"; log "latency.sh failed (see $OUT/latency.txt)"; }
fi
write_report
write_chart
cat "$OUT/results.md"
echo
echo "Written: $OUT/results.md, $OUT/chart.png and the CSV files beside them."
