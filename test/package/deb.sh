#!/usr/bin/env bash
# test/package/deb.sh: the Debian package installs, works and leaves cleanly.
#
#   1. builds the packages (make deb) unless build/deb has them;
#   2. dpkg -i postgresql-<v>-pgmq for each server version built (15 here);
#   3. creates a fresh cluster of the system server <v> (as user postgres,
#      on a private socket, pgmq preloaded), CREATE EXTENSION pgmq, runs the
#      SQL tour of README.md ("A short tour") and checks pgmq.stats counts;
#   4. dpkg -r, checks every file the package installed is gone, dpkg --purge,
#      checks dpkg no longer knows the package.
#
# It installs into the SYSTEM PostgreSQL directories (/usr/lib/postgresql/<v>,
# /usr/share/postgresql/<v>): run it only on a CI machine, as root, with
# PGMQ_DEB_TEST=1.  It refuses to run when the package is already installed
# or a pgmq library that is not the package's is in the server's directory,
# and on any exit removes what it installed and its cluster.
set -euo pipefail

fail() { echo "deb: FAIL: $*" >&2; exit 1; }
[[ "${PGMQ_DEB_TEST:-0}" == 1 ]] ||
    fail "this test installs into the system PostgreSQL: set PGMQ_DEB_TEST=1 (CI only)"
[[ "$(id -u)" -eq 0 ]] || fail "needs root (dpkg -i)"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"

shopt -s nullglob
debs=(build/deb/postgresql-*-pgmq_*.deb)
if ((${#debs[@]} == 0)); then
    make deb >build-deb.log 2>&1 || { tail -40 build-deb.log; fail "make deb failed"; }
    rm -f build-deb.log
    debs=(build/deb/postgresql-*-pgmq_*.deb)
fi
((${#debs[@]} > 0)) || fail "make deb made no package"

WORK="$(mktemp -d /tmp/pgmq-deb.XXXXXXXX)"
chmod 755 "$WORK"
chown postgres: "$WORK"
installed=()
cluster_bin=
cleanup() {
    if [[ -n "$cluster_bin" ]]; then
        runuser -u postgres -- "$cluster_bin/pg_ctl" -D "$WORK/data" -w stop -m fast >/dev/null 2>&1 || true
    fi
    local p
    for p in "${installed[@]}"; do
        dpkg --purge "$p" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# the SQL of README's "A short tour"
tour="$WORK/tour.sql"
awk '/^## A short tour/ { t = 1; next } t && /^```sql/ { s = 1; next } s && /^```/ { exit } s { print }' \
    README.md >"$tour"
grep -q "pgmq.create('orders')" "$tour" || fail "could not find the SQL tour in README.md"
chown postgres: "$tour"

for deb in "${debs[@]}"; do
    pkg="$(dpkg-deb -f "$deb" Package)"
    v="${pkg#postgresql-}"
    v="${v%-pgmq}"
    bin="/usr/lib/postgresql/$v/bin"
    [[ -x "$bin/postgres" ]] || fail "$pkg: the PostgreSQL $v server is not installed"
    echo "== $pkg ($deb)"
    if dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'installed'; then
        fail "$pkg is already installed; refusing to touch it"
    fi
    libdir="$("$bin/pg_config" --pkglibdir)"
    sharedir="$("$bin/pg_config" --sharedir)"
    [[ ! -e "$libdir/pgmq.so" ]] || fail "$libdir/pgmq.so exists and is not from $pkg; refusing"

    installed+=("$pkg")
    dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
    mapfile -t files < <(dpkg -L "$pkg" | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
    for f in "$libdir/pgmq.so" "$sharedir/extension/pgmq.control" "$sharedir/extension/pgmq--1.0.sql"; do
        printf '%s\n' "${files[@]}" | grep -qx "$f" || fail "$pkg does not install $f"
    done
    echo "ok: installed ${#files[@]} files"

    # a fresh cluster of the system server, pgmq preloaded
    cluster_bin="$bin"
    rm -rf "$WORK/data"
    runuser -u postgres -- "$bin/initdb" -D "$WORK/data" -U postgres --auth=trust --no-sync >/dev/null
    cat >>"$WORK/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$WORK'
shared_preload_libraries = 'pgmq'
fsync = off
CONF
    runuser -u postgres -- "$bin/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start >/dev/null ||
        { cat "$WORK/server.log"; fail "the cluster did not start"; }
    psql() { runuser -u postgres -- "$bin/psql" -h "$WORK" -p 5432 -U postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
    # the tour starts with CREATE EXTENSION pgmq
    psql -f "$tour" >/dev/null || fail "the SQL tour failed"
    echo "ok: the SQL tour ran"
    [[ "$(psql -c "SELECT extversion FROM pg_extension WHERE extname = 'pgmq'")" == \
        "$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" pgmq.control)" ]] || fail "wrong extension version"
    psql -c "SELECT pgmq.create('deb_q'); SELECT pgmq.send_batch('deb_q', ARRAY['{}', '{}']::jsonb[]);" >/dev/null
    [[ "$(psql -c "SELECT sends || '/' || messages_sent FROM pgmq.stats WHERE queue_name = 'deb_q'")" == 1/2 ]] ||
        fail "pgmq.stats does not count in the packaged build"
    echo "ok: pgmq.stats counts (preloaded)"
    runuser -u postgres -- "$bin/pg_ctl" -D "$WORK/data" -w stop -m fast >/dev/null
    cluster_bin=

    dpkg -r "$pkg" >/dev/null || fail "dpkg -r $pkg"
    for f in "${files[@]}"; do
        [[ ! -e "$f" ]] || fail "dpkg -r left $f"
    done
    dpkg --purge "$pkg" >/dev/null || fail "dpkg --purge $pkg"
    if dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -qv 'not-installed'; then
        fail "dpkg still knows $pkg after purge: $(dpkg-query -W -f '${Status}' "$pkg")"
    fi
    installed=("${installed[@]/$pkg/}")
    echo "ok: $pkg removed and purged, no file left"
done
echo "deb: all checks passed"
