#!/usr/bin/env bash
# test/bench/stats.sh: what the per-queue statistics (pgmq.stats) cost.
#
#   1. The message path with counting on and off (pgmq.track_stats, set per
#      connection through PGOPTIONS): send, and read + archive, at 1 and 2
#      clients; STATS_ROUNDS interleaved rounds (on, off, off, on, ...), the
#      median tps of each side and the difference.
#   2. Reading pgmq.stats for STATS_QUEUES queues (every one with traffic)
#      when they are empty and when they hold STATS_MESSAGES messages in
#      total: mean latency of `SELECT * FROM pgmq.stats` over pgbench runs.
#      pgmq.metrics_all() is timed beside it, once per state, for contrast.
#
# Needs a cluster with pgmq installed and in shared_preload_libraries
# (PGHOST/PGPORT/PGUSER, PGDATABASE default postgres) and psql/pgbench on
# PATH.  E.g. PGMQ_KEEP_CLUSTER=1 make test, then run this against it.
# Creates queues named stb_* and drops them at the end.
#
# Environment: STATS_SECONDS=5 (one pgbench run), STATS_ROUNDS=3,
# STATS_CLIENTS="1 2", STATS_QUEUES=1000, STATS_MESSAGES=1000000,
# STATS_READS=200 (pgmq.stats reads per measurement).
set -euo pipefail

SECS="${STATS_SECONDS:-5}"
ROUNDS="${STATS_ROUNDS:-3}"
CLIENTS="${STATS_CLIENTS:-1 2}"
NQUEUES="${STATS_QUEUES:-1000}"
NMSGS="${STATS_MESSAGES:-1000000}"
NREADS="${STATS_READS:-200}"
SQL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sql"
export PGDATABASE="${PGDATABASE:-postgres}"
: "${PGHOST:?PGHOST must be set}"
: "${PGPORT:?PGPORT must be set}"

MSG='{"event":"order.created","order_id":123456,"customer":"c-004217","amount":129.95,"currency":"EUR"}'
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
log() { printf '==> %s\n' "$*" >&2; }
median() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[[ "$(q -c "SELECT count(*) FROM pg_catalog.pg_settings WHERE name = 'pgmq.max_tracked_queues'")" == 1 ]] ||
    { echo "stats.sh: pgmq is not in shared_preload_libraries on this server" >&2; exit 1; }

# tps of SCRIPT at CLIENTS for SECS with counting on|off
tps() {
    local script="$1" clients="$2" setting="$3"
    PGOPTIONS="-c pgmq.track_stats=$setting" pgbench -n -M prepared -c "$clients" -j "$clients" \
        -T "$SECS" -D q=stb_path -D "msg=$MSG" -f "$SQL/$script" >"$WORK/pgbench.out" 2>&1 ||
        { cat "$WORK/pgbench.out" >&2; exit 1; }
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.out" | head -n 1
}

# keep at least 100,000 messages in stb_path for the consumers
refill() {
    q -c "SELECT pgmq.send_batch('stb_path', (SELECT array_agg('$MSG'::jsonb) FROM generate_series(1, 100000)))
          WHERE (SELECT count(*) FROM pgmq.q_stb_path) < 100000" >/dev/null
    q -c "VACUUM pgmq.q_stb_path" >/dev/null
}

echo "## pgmq.stats: cost on the message path (tps, median of $ROUNDS interleaved rounds of ${SECS} s)"
echo
echo "| operation | clients | counting on | counting off | difference |"
echo "|---|---:|---:|---:|---:|"
q -c "SELECT pgmq.create('stb_path')" >/dev/null
for op in send read_archive; do
    for c in $CLIENTS; do
        on=() off=()
        for r in $(seq "$ROUNDS"); do
            order="on off"
            ((r % 2 == 0)) && order="off on"
            for s in $order; do
                [[ "$op" == read_archive ]] && refill
                log "$op, $c client(s), counting $s, round $r"
                t="$(tps "pgmq_$op.sql" "$c" "$s")"
                if [[ "$s" == on ]]; then on+=("$t"); else off+=("$t"); fi
            done
        done
        m_on="$(median "${on[@]}")" m_off="$(median "${off[@]}")"
        printf '| %s | %s | %.0f | %.0f | %+.1f%% |\n' "$op" "$c" "$m_on" "$m_off" \
            "$(awk -v a="$m_on" -v b="$m_off" 'BEGIN { print (a - b) * 100 / b }')"
    done
done
q -c "SELECT pgmq.drop_queue('stb_path')" >/dev/null

# mean ms of one SELECT * FROM pgmq.stats, over NREADS reads
stats_ms() {
    echo 'SELECT * FROM pgmq.stats;' >"$WORK/stats.sql"
    pgbench -n -M prepared -c 1 -t "$NREADS" -f "$WORK/stats.sql" >"$WORK/pgbench.out" 2>&1 ||
        { cat "$WORK/pgbench.out" >&2; exit 1; }
    sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.out"
}
# ms of one metrics_all() call
metrics_ms() {
    q -c '\timing on' -c 'SELECT count(*) FROM pgmq.metrics_all()' |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

log "creating $NQUEUES queues"
q -c "SELECT pgmq.create('stb_' || i) FROM generate_series(1, $NQUEUES) i" >/dev/null
# every queue has had traffic (one send, one delete) and is empty
q -c "SELECT pgmq.delete('stb_' || i, (SELECT s FROM pgmq.send('stb_' || i, '{}') s))
      FROM generate_series(1, $NQUEUES) i" >/dev/null
rows="$(q -c "SELECT count(*) FROM pgmq.stats WHERE queue_name LIKE 'stb\_%'")"
[[ "$rows" == "$NQUEUES" ]] || { echo "stats.sh: pgmq.stats shows $rows of $NQUEUES queues" >&2; exit 1; }
empty_ms="$(stats_ms)"
empty_metrics="$(metrics_ms)"

per=$((NMSGS / NQUEUES))
log "filling: $per messages in each queue"
for i in $(seq "$NQUEUES"); do
    echo "SELECT count(*) FROM pgmq.send_batch('stb_$i', (SELECT array_agg('$MSG'::jsonb) FROM generate_series(1, $per)));"
done | q >/dev/null
q -c "VACUUM ANALYZE" >/dev/null
total="$(q -c "SELECT sum(queue_length_estimate) FROM pgmq.stats WHERE queue_name LIKE 'stb\_%'")"
full_ms="$(stats_ms)"
full_metrics="$(metrics_ms)"

echo
echo "## Reading pgmq.stats ($NQUEUES queues, mean of $NREADS reads)"
echo
echo "| queues hold | SELECT * FROM pgmq.stats | metrics_all() (contrast) |"
echo "|---|---:|---:|"
printf '| 0 messages | %.3f ms | %.1f ms |\n' "$empty_ms" "$empty_metrics"
printf '| %s messages (sum of queue_length_estimate: %s) | %.3f ms | %.1f ms |\n' \
    "$((per * NQUEUES))" "$total" "$full_ms" "$full_metrics"

log "dropping the stb_ queues"
q -c "SELECT pgmq.drop_queue('stb_' || i) FROM generate_series(1, $NQUEUES) i" >/dev/null
