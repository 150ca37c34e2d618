#!/usr/bin/env bash
# test/bench/stats.sh: what the per-queue statistics (pgmq.stats) cost.
#
#   1. The message path with counting on and off (pgmq.track_stats, set per
#      connection through PGOPTIONS): send, and read + archive, at 1 and 2
#      clients; STATS_ROUNDS interleaved rounds (on, off, off, on, ...), the
#      median tps of each side and the difference.
#   2. Reading pgmq.stats for STATS_QUEUES queues (every one with traffic)
#      when they are empty and when they hold STATS_MESSAGES messages in
#      total: two databases (stb_empty, stb_full) read in interleaved
#      rounds, mean latency of `SELECT * FROM pgmq.stats` per pgbench run.
#      pgmq.metrics_all() is timed beside it, once per state, for contrast.
#
# Needs a cluster with pgmq installed and in shared_preload_libraries
# (PGHOST/PGPORT/PGUSER, PGDATABASE default postgres) and psql/pgbench on
# PATH.  E.g. PGMQ_KEEP_CLUSTER=1 make test, then run this against it.
# Creates queue stb_path and databases stb_empty, stb_full; drops them at the end.
#
# Environment: STATS_SECONDS=5 (one pgbench run), STATS_ROUNDS=3,
# STATS_CLIENTS="1 2", STATS_QUEUES=1000, STATS_MESSAGES=1000000,
# STATS_READS=200 (pgmq.stats reads per measurement), STATS_SKIP_PATH=1
# (only part 2).
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
[[ "${STATS_SKIP_PATH:-0}" == 1 ]] && CLIENTS=""
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

# mean ms of one SELECT * FROM pgmq.stats in database $1, over NREADS reads
stats_ms() {
    echo 'SELECT * FROM pgmq.stats;' >"$WORK/stats.sql"
    PGDATABASE="$1" pgbench -n -M prepared -c 1 -t "$NREADS" -f "$WORK/stats.sql" >"$WORK/pgbench.out" 2>&1 ||
        { cat "$WORK/pgbench.out" >&2; exit 1; }
    sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.out"
}
# ms of one metrics_all() call in database $1
metrics_ms() {
    PGDATABASE="$1" q -c '\timing on' -c 'SELECT count(*) FROM pgmq.metrics_all()' |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

# Two databases, each with NQUEUES queues that all had traffic (one send,
# one delete): in stb_empty they are empty, in stb_full they hold NMSGS
# messages.  pgmq.stats shows the queues of the current database, so the
# two states are measured in turns, on the same shared memory.
per=$((NMSGS / NQUEUES))
for db in stb_empty stb_full; do
    q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    PGDATABASE=$db q -c "SET client_min_messages = warning" -c "CREATE EXTENSION pgmq" >/dev/null
    log "$db: creating $NQUEUES queues"
    # one transaction per queue (a queue takes several locks to create or drop)
    for i in $(seq "$NQUEUES"); do
        echo "SELECT pgmq.create('stb_$i');"
        echo "SELECT pgmq.delete('stb_$i', (SELECT s FROM pgmq.send('stb_$i', '{}') s));"
    done | PGDATABASE=$db q >/dev/null
done
log "stb_full: $per messages in each queue"
for i in $(seq "$NQUEUES"); do
    echo "SELECT count(*) FROM pgmq.send_batch('stb_$i', (SELECT array_agg('$MSG'::jsonb) FROM generate_series(1, $per)));"
done | PGDATABASE=stb_full q >/dev/null
for db in stb_empty stb_full; do
    PGDATABASE=$db q -c "VACUUM ANALYZE" >/dev/null
    rows="$(PGDATABASE=$db q -c "SELECT count(*) FROM pgmq.stats")"
    [[ "$rows" == "$NQUEUES" ]] || { echo "stats.sh: $db: pgmq.stats shows $rows of $NQUEUES queues" >&2; exit 1; }
done
total="$(PGDATABASE=stb_full q -c "SELECT sum(queue_length_estimate) FROM pgmq.stats")"
empty=() full=()
for r in $(seq "$ROUNDS"); do
    order="stb_empty stb_full"
    ((r % 2 == 0)) && order="stb_full stb_empty"
    for db in $order; do
        log "reading pgmq.stats in $db, round $r"
        t="$(stats_ms "$db")"
        if [[ "$db" == stb_empty ]]; then empty+=("$t"); else full+=("$t"); fi
    done
done
empty_metrics="$(metrics_ms stb_empty)"
full_metrics="$(metrics_ms stb_full)"

echo
echo "## Reading pgmq.stats ($NQUEUES queues; mean of $NREADS reads, median of $ROUNDS interleaved rounds)"
echo
echo "| queues hold | SELECT * FROM pgmq.stats | each round | metrics_all() (contrast) |"
echo "|---|---:|---|---:|"
printf '| 0 messages | %.3f ms | %s | %.1f ms |\n' "$(median "${empty[@]}")" "${empty[*]}" "$empty_metrics"
printf '| %s messages (sum of queue_length_estimate: %s) | %.3f ms | %s | %.1f ms |\n' \
    "$((per * NQUEUES))" "$total" "$(median "${full[@]}")" "${full[*]}" "$full_metrics"

log "dropping the stb_ queues and databases"
for db in stb_empty stb_full; do
    # drop_queue frees the statistics entries
    for i in $(seq "$NQUEUES"); do echo "SELECT pgmq.drop_queue('stb_$i');"; done | PGDATABASE=$db q >/dev/null
    q -c "DROP DATABASE $db" >/dev/null
done
