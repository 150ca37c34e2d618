#!/usr/bin/env bash
# test/bench/instructions.sh: instructions per transaction (callgrind) of
# pgmq's operations and of their raw-SQL twins, a measure of pgmq's per-call
# overhead that the load of the machine does not move (make bench's tps do).
#
# Starts a throwaway cluster under valgrind --tool=callgrind
# --trace-children=yes (binaries from PG_CONFIG, or the pg_config on PATH;
# pgmq installed there and preloaded; autovacuum and the queue vacuum worker
# off), runs each pgbench script of test/bench/sql with one client for 50 and
# for N+50 transactions, and prints (Ir(N+50) - Ir(50)) / N of the backend
# that ran it: the instructions one transaction costs the server, without the
# kernel's share.  Needs valgrind and pgbench; as root, the cluster runs as
# user postgres.  Takes 5 to 10 minutes.
#
# Environment: INSTR_OPS (default: all seven operations of make bench),
# INSTR_N (transactions measured per script, default 300).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OPS="${INSTR_OPS:-send send_batch read_delete read_archive pop pop10 read10_delete10}"
N="${INSTR_N:-300}"
INSTR_SCRIPT=instructions.sh
INSTR_TMP=/tmp/pgmq-instr.XXXXXXXX
source "$HERE/lib_instr.sh"

psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
CREATE EXTENSION pgmq;
SELECT pgmq.create('bench');
CREATE SCHEMA bench;
CREATE TABLE bench.raw_q (LIKE pgmq.q_bench INCLUDING ALL);
CREATE TABLE bench.raw_a (LIKE pgmq.a_bench INCLUDING ALL);
SELECT format('ALTER TABLE bench.raw_q SET (%s)', array_to_string(reloptions, ', '))
  FROM pg_class WHERE oid = 'pgmq.q_bench'::regclass AND reloptions IS NOT NULL \gexec
EOF

MSG='{"event":"order.created","order_id":123456,"customer":"c-004217","amount":129.95,"currency":"EUR"}'
BATCH="{$(
    esc="\"${MSG//\"/\\\"}\""
    for i in $(seq 100); do printf '%s%s' "$([[ $i -gt 1 ]] && echo ,)" "$esc"; done
)}"

# ir SIDE OP TRANSACTIONS FILL: instructions of the backend that ran the script
ir() {
    local t a before f
    if [[ "$1" == pgmq ]]; then t=pgmq.q_bench a=pgmq.a_bench; else t=bench.raw_q a=bench.raw_a; fi
    psql -X -q -v ON_ERROR_STOP=1 -v msg="$MSG" >/dev/null <<EOF
TRUNCATE $t, $a;
INSERT INTO $t (vt, message) SELECT now(), :'msg'::jsonb FROM generate_series(1, $4);
VACUUM (ANALYZE) $t;
VACUUM (ANALYZE) $a;
EOF
    sleep 1
    before="$(ls "$WORK/out")"
    pgbench -n -M prepared -c 1 -t "$3" -D q=bench -D "msg=$MSG" -D "batch=$BATCH" \
        -f "$HERE/sql/${1}_$2.sql" >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log" >&2; exit 1; }
    sleep 3 # the backend writes its profile as it exits
    # pgbench opens two connections; the one that ran the script is the bigger profile
    f="$(cd "$WORK/out" && comm -13 <(echo "$before") <(ls) | xargs ls -S | head -n 1)"
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$WORK/out/$f"
}

printf '%-18s %14s %14s %10s\n' operation "pgmq Ir/tx" "raw Ir/tx" "raw/pgmq"
for op in $OPS; do
    case "$op" in
        send | send_batch) fill=0 ;;
        pop10 | read10_delete10) fill=$(((N + 50) * 10 + 1000)) ;;
        *) fill=$((N + 1000)) ;;
    esac
    n=$N
    if [[ "$op" == send_batch ]]; then n=$((N / 6 + 1)); fi
    declare -A per=()
    for side in pgmq raw; do
        small="$(ir "$side" "$op" 50 "$fill")"
        big="$(ir "$side" "$op" $((n + 50)) "$fill")"
        per[$side]=$(((big - small) / n))
    done
    printf '%-18s %14d %14d %10.3f\n' "$op" "${per[pgmq]}" "${per[raw]}" \
        "$(awk -v a="${per[pgmq]}" -v b="${per[raw]}" 'BEGIN { print b / a }')"
done
