#!/usr/bin/env bash
# test/bench/router.sh owns `make bench-router`: the same pgmq operations run
# directly on a shard and through a pgmq_router (PL/Proxy) in front of two
# shards, at 1 and 4 clients, and prints the throughput ratio.
#
# Starts three throwaway clusters on this machine (shard 0, shard 1, router),
# runs pgbench (-M prepared, BENCH_SECONDS per run, default 5) for each
# workload, BENCH_ROUNDS times (default 3) alternating direct and router runs,
# prints the medians, and removes everything afterwards.  The placed queue lives on
# shard 0, so "direct" and "router" do the same work on the same server; the
# difference is the router's cost.  The spread queue row sends through the
# router to both shards in turn (on one machine, so it shows the cost of the
# spread path, not added capacity).
#
# Environment: PG_CONFIG (default: pg_config on PATH), BENCH_SECONDS,
# BENCH_CLIENTS (default "1 4"), BENCH_ROUNDS.  Run as root, it runs the clusters as the
# postgres user.
set -euo pipefail

PG_CONFIG="${PG_CONFIG:-pg_config}"
BINDIR="$("$PG_CONFIG" --bindir)"
SECONDS_PER_RUN="${BENCH_SECONDS:-5}"
ROUNDS="${BENCH_ROUNDS:-3}"
CLIENTS="${BENCH_CLIENTS:-1 4}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "$(id -u)" -eq 0 ]]; then
    exec runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" BENCH_SECONDS="$SECONDS_PER_RUN" \
        BENCH_CLIENTS="$CLIENTS" BENCH_ROUNDS="$ROUNDS" PATH="$PATH" bash "$HERE/router.sh"
fi

TMP="$(mktemp -d /tmp/pgmq-bench-router.XXXXXX)"
PORTS=()
cleanup() {
    for d in "$TMP"/s0 "$TMP"/s1 "$TMP"/r; do
        if [[ -f "$d/postmaster.pid" ]]; then
            "$BINDIR/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    local p=$1
    while "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$p" -t 1 || [[ $? -ne 2 ]]; do p=$((p + 1)); done
    echo "$p"
}

start_cluster() { # dir port preload
    "$BINDIR/initdb" -D "$1" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
    cat >>"$1/postgresql.conf" <<EOF
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TMP'
shared_preload_libraries = '$3'
fsync = off
synchronous_commit = on
max_connections = 100
log_min_messages = warning
EOF
    "$BINDIR/pg_ctl" -D "$1" -l "$1.log" -w start >/dev/null
}

port=56600
for name in s0 s1 r; do
    port="$(free_port "$port")"
    PORTS+=("$port")
    if [[ "$name" == r ]]; then start_cluster "$TMP/$name" "$port" "pgmq_router"; else start_cluster "$TMP/$name" "$port" pgmq; fi
    port=$((port + 1))
done
S0=${PORTS[0]} S1=${PORTS[1]} R=${PORTS[2]}
psql_on() { "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres -p "$@"; }

psql_on "$S0" -c 'CREATE EXTENSION pgmq'
psql_on "$S1" -c 'CREATE EXTENSION pgmq'
psql_on "$R" <<EOF
CREATE EXTENSION plproxy;
CREATE SERVER pgmq_cluster FOREIGN DATA WRAPPER plproxy
    OPTIONS (p0 'host=127.0.0.1 port=$S0 dbname=postgres', p1 'host=127.0.0.1 port=$S1 dbname=postgres');
CREATE USER MAPPING FOR PUBLIC SERVER pgmq_cluster;
CREATE EXTENSION pgmq_router;
EOF
# a queue name that PL/Proxy places on shard 0, so direct and routed runs use one server
Q="$(psql_on "$R" -At -c "SELECT n FROM (SELECT 'bench_' || i AS n FROM generate_series(1, 50) i) s
                          WHERE pgmq_router.placement(n) = 0 LIMIT 1")"
psql_on "$R" -c "SELECT pgmq.create('$Q')" -c "SELECT pgmq_router.create_spread('bench_spread')"

cat >"$TMP/send.sql" <<EOF
SELECT pgmq.send('$Q', '{"k": "v"}');
EOF
cat >"$TMP/cycle.sql" <<EOF
SELECT pgmq.send('$Q', '{"k": "v"}');
SELECT pgmq.delete('$Q', msg_id) FROM pgmq.read('$Q', 30, 1);
EOF
cat >"$TMP/pop.sql" <<EOF
SELECT pgmq.send('$Q', '{"k": "v"}');
SELECT * FROM pgmq.pop('$Q');
EOF
cat >"$TMP/spread.sql" <<EOF
SELECT pgmq.send('bench_spread', '{"k": "v"}');
EOF

tps() { # port script clients
    "$BINDIR/pgbench" -n -M prepared -h 127.0.0.1 -U postgres -p "$1" -f "$2" -c "$3" -j "$3" -T "$SECONDS_PER_RUN" postgres 2>&1 |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "pgmq direct vs through pgmq_router (PL/Proxy, 2 shards), pgbench -M prepared, ${SECONDS_PER_RUN}s per run,"
echo "median of $ROUNDS rounds (direct and router alternate)"
echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}'), $(nproc) cores shared with whatever else runs (load average at start: $(cut -d" " -f1-3 /proc/loadavg))"
echo
printf '| %-34s | %7s | %11s | %11s | %6s | %17s |\n' operation clients "direct tps" "router tps" ratio "added per call"
printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "---------" "-------------" "-------------" "--------" "-------------------"
for c in $CLIENTS; do
    for w in send cycle pop; do
        case $w in
            send) label="send (1 call)"; calls=1 ;;
            cycle) label="send; read + delete (3 calls)"; calls=3 ;;
            pop) label="send; pop (2 calls)"; calls=2 ;;
        esac
        ds=() rs=()
        for ((i = 0; i < ROUNDS; i++)); do
            psql_on "$S0" -c "SELECT pgmq.purge_queue('$Q')" >/dev/null
            ds+=("$(tps "$S0" "$TMP/$w.sql" "$c")")
            psql_on "$S0" -c "SELECT pgmq.purge_queue('$Q')" >/dev/null
            rs+=("$(tps "$R" "$TMP/$w.sql" "$c")")
        done
        d="$(median "${ds[@]}")"
        r="$(median "${rs[@]}")"
        awk -v l="$label" -v c="$c" -v d="$d" -v r="$r" -v k="$calls" 'BEGIN {
            printf "| %-34s | %7d | %11.0f | %11.0f | %6.2f | %14.0f µs |\n", l, c, d, r, r / d, (c / r - c / d) * 1e6 / k }'
    done
    r="$(tps "$R" "$TMP/spread.sql" "$c")"
    awk -v c="$c" -v r="$r" 'BEGIN { printf "| %-34s | %7d | %11s | %11.0f | %6s | %17s |\n", "send to a spread queue (2 shards)", c, "-", r, "-", "-" }'
done
echo
echo "ratio = router tps / direct tps; added per call = (1/router - 1/direct) per pgmq call, per client"
