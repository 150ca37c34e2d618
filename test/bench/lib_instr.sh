#!/usr/bin/env bash
# test/bench/lib_instr.sh: the throwaway cluster under valgrind
# --tool=callgrind that test/bench/instructions.sh and
# test/bench/features_instr.sh measure with.  Sourced, not run: the caller
# sets INSTR_SCRIPT (its name, for messages) and INSTR_TMP (mktemp template
# of the work directory).  Binaries from PG_CONFIG, or the pg_config on PATH;
# pgmq installed there and preloaded; autovacuum and the queue vacuum worker
# off.  Leaves WORK (with WORK/out for the callgrind files), AS (the command
# prefix that runs as the cluster's owner) and PGHOST/PGPORT/PGUSER/PGDATABASE
# set, and stops the cluster and removes WORK on exit.
BINDIR="$("${PG_CONFIG:-pg_config}" --bindir)"
export PATH="$BINDIR:$PATH"
command -v valgrind >/dev/null || { echo "$INSTR_SCRIPT: valgrind is not installed" >&2; exit 1; }

WORK="$(mktemp -d "$INSTR_TMP")"
chmod 755 "$WORK"
mkdir "$WORK/out"
AS=()
if [[ "$(id -u)" -eq 0 ]]; then
    chown -R postgres: "$WORK"
    AS=(runuser -u postgres --)
fi
export PGHOST="$WORK" PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
cleanup() {
    "${AS[@]}" pg_ctl -D "$WORK/data" -w -t 120 stop -m fast >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"${AS[@]}" initdb -D "$WORK/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >/dev/null
cat >>"$WORK/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$WORK'
shared_preload_libraries = 'pgmq'
fsync = off
autovacuum = off
pgmq.vacuum_interval = 0
CONF
"${AS[@]}" bash -c "cd '$WORK' && exec valgrind --tool=callgrind --trace-children=yes \
    --callgrind-out-file='$WORK/out/cg.%p' -q postgres -D '$WORK/data' >'$WORK/server.log' 2>&1" &
for _ in $(seq 120); do pg_isready -q && break; sleep 1; done
pg_isready -q || { cat "$WORK/server.log"; exit 1; }
