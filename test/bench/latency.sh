#!/usr/bin/env bash
# test/bench/latency.sh: how fast read_with_poll returns after a send commits.
#
# Prints p50/p90/p99/max of the time from a producer's COMMIT to the return
# of a consumer blocked in pgmq.read_with_poll, over LATENCY_TRIALS trials:
#   1. on the cluster given by PGHOST/PGPORT/PGUSER (PGDATABASE), which should
#      have pgmq in shared_preload_libraries (make bench-latency sees to it);
#      then the same with the COMMIT 0-2 ms after the consumer's statement
#      starts instead of once it sleeps, to exercise the race between its
#      registration, its read and its sleep (fails on a trial over 1 s);
#   2. on a throwaway cluster without preloading, where read_with_poll polls
#      every 100 ms (poll_interval_ms => 100, the default);
#   3. fan-out: LATENCY_WAITERS consumers waiting on LATENCY_QUEUES queues of a
#      throwaway preloaded cluster; one message per queue; checks that each
#      send wakes one waiter of its own queue and leaves the others waiting.
# The throwaway clusters use the PostgreSQL binaries on PATH (initdb, pg_ctl,
# pg_config), listen only on a private Unix socket, and run as user postgres
# when this script runs as root.  The latency client is test/bench/latency.c,
# built here against libpq.
#
# Environment: LATENCY_TRIALS (default 1000), LATENCY_WAITERS (1000),
# LATENCY_QUEUES (200; 0 skips the fan-out), LATENCY_SKIP_POLLING=1.
set -euo pipefail

TRIALS="${LATENCY_TRIALS:-1000}"
WAITERS="${LATENCY_WAITERS:-1000}"
QUEUES="${LATENCY_QUEUES:-200}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PG_CONFIG="${PG_CONFIG:-pg_config}"
BINDIR="$("$PG_CONFIG" --bindir)"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'latency.sh: error: %s\n' "$*" >&2; exit 1; }

[[ -n "${PGHOST:-}" && -n "${PGPORT:-}" ]] || die "set PGHOST and PGPORT (and PGUSER) to a cluster with pgmq preloaded"

WORK="$(mktemp -d /tmp/pgmq-latency.XXXXXXXX)"
chmod 755 "$WORK"
CLUSTERS=()

# as_pg CMD...: run CMD as the cluster owner (postgres when we are root).
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cleanup() {
    local rc=$? d
    set +e
    for d in "${CLUSTERS[@]}"; do
        as_pg "$BINDIR/pg_ctl" -D "$d" -w -t 30 stop -m fast >/dev/null 2>&1 ||
            as_pg "$BINDIR/pg_ctl" -D "$d" -w stop -m immediate >/dev/null 2>&1
    done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the latency client"
cc -O2 -Wall -o "$WORK/latency" "$HERE/latency.c" \
    -I"$("$PG_CONFIG" --includedir)" -L"$("$PG_CONFIG" --libdir)" -lpq -lpthread ||
    die "could not build test/bench/latency.c (is libpq-dev installed?)"
chmod 755 "$WORK/latency"

# start_cluster NAME PORT CONF-LINES: initdb + start; prints nothing.
start_cluster() {
    local name="$1" port="$2" conf="$3" dir="$WORK/$1"
    mkdir -p "$dir"
    if [[ "$(id -u)" -eq 0 ]]; then chown postgres: "$dir"; fi
    as_pg "$BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 \
        --locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; die "initdb failed"; }
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
log_min_messages = warning
$conf
EOF
    as_pg "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { tail -n 30 "$dir/server.log"; die "cluster $name did not start"; }
    CLUSTERS+=("$dir/data")
}

# run_client NAME PORT ARGS...: the latency client against a throwaway cluster.
run_client() {
    local name="$1" port="$2"
    shift 2
    as_pg env PGHOST="$WORK/$name" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres \
        bash -c 'ulimit -n "$(ulimit -Hn)"; exec "$@"' latency "$WORK/latency" "$@"
}

RESULTS=()

# 1. the given cluster, preloaded
preload="$(psql -X -At -c 'SHOW shared_preload_libraries')" || die "cannot connect to $PGHOST:$PGPORT"
label="preloaded: woken at commit"
if [[ ",${preload// /}," != *,pgmq,* ]]; then
    log "warning: pgmq is not in shared_preload_libraries of $PGHOST:$PGPORT"
    label="given cluster (NOT preloaded)"
fi
log "$TRIALS trials on $PGHOST:$PGPORT ($label)"
RESULTS+=("$("$WORK/latency" -n "$TRIALS" -i 100 -d 100 -l "$label")")
log "${RESULTS[-1]}"
log "$TRIALS trials committing 0-2 ms after the consumer starts"
RESULTS+=("$("$WORK/latency" -r -n "$TRIALS" -i 100 -d 2 -l "${label%%:*}: commit races the wait")")
log "${RESULTS[-1]}"

# 2. no preload: polling every 100 ms
if [[ "${LATENCY_SKIP_POLLING:-0}" != 1 ]]; then
    log "starting a throwaway cluster without preloading"
    start_cluster poll 5432 ""
    log "$TRIALS trials, no preload, poll_interval_ms 100"
    RESULTS+=("$(run_client poll 5432 -n "$TRIALS" -i 100 -d 100 -l "not preloaded: polling 100 ms")")
    log "${RESULTS[-1]}"
fi

# 3. fan-out on a preloaded cluster with room for the waiters
if ((QUEUES > 0)); then
    log "starting a throwaway preloaded cluster for $WAITERS waiters"
    start_cluster fan 5433 "shared_preload_libraries = 'pgmq'
max_connections = $((WAITERS + 20))
shared_buffers = 64MB"
    log "$WAITERS waiters on $QUEUES queues, one send per queue"
    RESULTS+=("$(run_client fan 5433 -W "$WAITERS" -Q "$QUEUES" -l "preloaded: $WAITERS waiters/$QUEUES queues")")
    log "${RESULTS[-1]}"
fi

echo
echo "commit-to-return latency of read_with_poll ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${RESULTS[@]}"
