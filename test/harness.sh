#!/usr/bin/env bash
# test/harness.sh owns the throwaway-cluster workflow behind `make test`, `make demo` and `make bench`,
# on every PostgreSQL major version we test (15 and 18 run everything, 17 is compiled only).
#
# Usage: bash test/harness.sh <test|demo|bench|latency>
#
#   test   install missing Debian packages, then for each version in
#          PG_VERSIONS (default "15 17 18"):
#            15, 18  build + install pgmq (with -Werror), start a throwaway
#                    cluster, run the PGXS suites (regress, isolation, TAP)
#                    from a scratch copy of the repo, every test/extra/*.sh,
#                    and the Python walkthrough;
#            17      compile only, against Debian 13's headers (-Werror), and
#                    check that no file but src/pg_compat.h tests PG_VERSION_NUM.
#          PostgreSQL 18 (+ pg_partman 5) is built once per machine by
#          test/pg/build_pg18.sh and cached outside the tree; each run uses a
#          private copy of it.  Prints one summary line per version, how long
#          each took, and a final "N passed, N failed" over all of them.
#   demo   same setup on one version, then run examples/python/demo.py with 100000 messages.
#   bench  same setup on one version, then run test/bench/run.sh (if there is one).
#   latency  same setup on one version, then run test/bench/latency.sh (read_with_poll wakeup latency).
#
# Works on a fresh Debian 12 machine as root (the cluster then runs as the
# `postgres` user, because PostgreSQL refuses to run as root) or as a normal
# user with sudo (the cluster runs as that user).
#
# Environment:
#   PG_VERSIONS="15 18"   versions `test` runs (default "15 17 18"; 17 = compile only)
#   PG_VERSION=18         version demo/bench/latency use (default 15)
#   PGMQ_PGBIN=...        bin directory of the PostgreSQL 15 to use (default
#                         /usr/lib/postgresql/15/bin; e.g. a relocated copy)
#   PGMQ_CACHE=...        where test/pg/build_pg18.sh keeps PostgreSQL 18 and 17's headers
#   PGMQ_KEEP_CLUSTER=1   leave the cluster running at the end and print how to connect
#   PGMQ_PYTHON=...       Python interpreter with psycopg 3 (default /usr/bin/python3,
#                         the one Debian's python3-psycopg is installed for)
#   PGMQ_SKIP_DEPS=1      do not check/install Debian packages
set -euo pipefail

MODE="${1:-}"
case "$MODE" in
    test | demo | bench | latency) ;;
    *)
        echo "usage: bash test/harness.sh <test|demo|bench|latency>" >&2
        exit 2
        ;;
esac

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_PG="$REPO/test/pg/build_pg18.sh"
PYTHON="${PGMQ_PYTHON:-/usr/bin/python3}"
KEEP="${PGMQ_KEEP_CLUSTER:-0}"
# One version per run: the child runs of `test`, and demo/bench/latency.
VERSION="${PGMQ_HARNESS_VERSION:-${PG_VERSION:-15}}"
PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-partman libipc-run-perl
          python3-psycopg build-essential gnuplot-nox clang-14 libclang-rt-14-dev)
# What the test suites need besides: PL/Proxy for the router (test/t/010_router.pl),
# the Prometheus exporter and curl (test/extra/prometheus.sh), and Debian's
# packaging tools for the package test (test/package/deb.sh).
if [[ "$MODE" == test ]]; then
    PACKAGES+=(postgresql-15-plproxy prometheus-postgres-exporter curl
               debhelper devscripts postgresql-server-dev-all)
fi
# What test/pg/build_pg18.sh needs to build PostgreSQL 18 from source.
PG18_BUILD_PACKAGES=(bison flex dpkg-dev pkg-config libicu-dev libreadline-dev zlib1g-dev libxml2-dev)
# Build flags for tests and CI: warnings are errors.  PGMQ_WERROR=1 is the
# Makefile's switch; -Werror is also passed through COPT (which PGXS appends to
# CFLAGS) so this holds whether or not the Makefile has that switch.
WERROR_MAKE=(PGMQ_WERROR=1 COPT=-Werror)
# Node.js and npm run the third-party client suite (test/extra/clients.sh);
# Debian's packages only when the machine has no node/npm of its own.
if [[ "$MODE" == test ]] && ! { command -v node && command -v npm; } >/dev/null; then
    PACKAGES+=(nodejs npm)
fi

log() { printf '==> %s\n' "$*"; }
die() { printf 'harness: error: %s\n' "$*" >&2; exit 1; }

cd "$REPO"
CACHE="$(bash "$BUILD_PG" path)"

# bench needs nothing from us unless there is a benchmark to run.
if [[ "$MODE" == bench && ! -f test/bench/run.sh ]]; then
    echo "There is no benchmark yet (test/bench/run.sh does not exist)."
    exit 1
fi

# ---------------------------------------------------------------------------
# Who runs what: root installs and builds, the cluster and tests run unprivileged.
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
    RUN_USER=postgres
else
    command -v sudo >/dev/null || die "not root and sudo is not installed"
    SUDO=(sudo)
    RUN_USER="$(id -un)"
fi

# ---------------------------------------------------------------------------
# 1. Dependencies
install_deps() {
    local missing=() p
    if versions_need_build18; then PACKAGES+=("${PG18_BUILD_PACKAGES[@]}"); fi
    for p in "${PACKAGES[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    if ((${#missing[@]} == 0)); then
        log "Debian packages: all present"
        return
    fi
    log "installing missing Debian packages: ${missing[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}
# Whether this run uses PostgreSQL 18 (test/pg/build_pg18.sh may have to build it).
versions_need_build18() {
    local v list
    if [[ "$MODE" == test && -z "${PGMQ_HARNESS_VERSION:-}" ]]; then list="${PG_VERSIONS:-15 17 18}"; else list="$VERSION"; fi
    for v in $list; do
        if [[ "$v" == 18 ]]; then return 0; fi
    done
    return 1
}
if [[ "${PGMQ_SKIP_DEPS:-0}" != 1 ]]; then
    install_deps
fi

# ---------------------------------------------------------------------------
# 1b. make test: one child run of this script per version, then the summary.
elapsed() { # seconds -> "Xm Ys"
    printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# compile_only V PG_CONFIG: build a scratch copy of the tree against V's
# headers with -Werror; check that only src/pg_compat.h tests PG_VERSION_NUM.
compile_only() {
    local v="$1" pgc="$2" dir rc=0 bad
    dir="$(mktemp -d /tmp/pgmq-compile$v.XXXXXXXX)"
    tar -C "$REPO" --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
        --exclude=./results --exclude=./output_iso --exclude=./tmp_check --exclude=./test/clients/node_modules \
        -cf - . | tar -C "$dir" -xf -
    log "compiling against PostgreSQL $v headers ($("$pgc" --version)), -Werror"
    (cd "$dir" && make -s PG_CONFIG="$pgc" "${WERROR_MAKE[@]}" clean >/dev/null 2>&1 &&
        make -s PG_CONFIG="$pgc" "${WERROR_MAKE[@]}") || rc=$?
    rm -rf "$dir"
    bad="$(cd "$REPO" && grep -rln 'PG_VERSION_NUM' src --include='*.c' --include='*.h' | grep -v '^src/pg_compat\.h$' || true)"
    if [[ -n "$bad" ]]; then
        echo "harness: PG_VERSION_NUM is tested outside src/pg_compat.h: $bad" >&2
        rc=1
    fi
    return "$rc"
}

run_all_versions() {
    local versions="${PG_VERSIONS:-15 17 18}" v t0 t rc line pgc label
    local summary=() total_pass=0 total_fail=0 np nf log
    local logdir
    logdir="$(mktemp -d /tmp/pgmq-harness-logs.XXXXXXXX)"
    for v in $versions; do
        t0=$(date +%s)
        log "=============== PostgreSQL $v ==============="
        case "$v" in
            17)
                rc=0
                bash "$BUILD_PG" 17 || rc=$?
                pgc="$CACHE/pg17-headers/bin/pg_config"
                if [[ "$rc" -eq 0 ]]; then compile_only 17 "$pgc" || rc=$?; fi
                t=$(($(date +%s) - t0))
                label="PostgreSQL $( [[ -x "$pgc" ]] && "$pgc" --version | awk '{print $2}' || echo 17) (compile only, -Werror)"
                if [[ "$rc" -eq 0 ]]; then np=1; nf=0; else np=0; nf=1; fi
                ;;
            15 | 18)
                rc=0
                if [[ "$v" == 18 ]]; then bash "$BUILD_PG" 18 || rc=$?; fi
                log="$logdir/pg$v.log"
                : >"$log"
                if [[ "$rc" -eq 0 ]]; then
                    PGMQ_HARNESS_VERSION="$v" PGMQ_SKIP_DEPS=1 bash "$REPO/test/harness.sh" test 2>&1 | tee "$log" || rc=$?
                fi
                t=$(($(date +%s) - t0))
                line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)"
                label="$(sed -n 's/^==> versions: //p' "$log" | tail -n 1)"
                label="${label:-PostgreSQL $v}"
                if [[ -n "$line" ]]; then
                    np="${line%% passed*}"
                    nf="${line#*, }"; nf="${nf%% failed}"
                    if [[ "$rc" -ne 0 && "$nf" -eq 0 ]]; then nf=1; fi
                else
                    np=0; nf=1      # setup failed before any suite ran
                fi
                ;;
            *)
                log "PostgreSQL $v: not supported by this harness (15 and 18 run, 17 compiles)"
                t=0; np=0; nf=1; label="PostgreSQL $v (unsupported here)"
                ;;
        esac
        total_pass=$((total_pass + np))
        total_fail=$((total_fail + nf))
        summary+=("$(printf '%-52s %s passed, %s failed  (%s)' "$label:" "$np" "$nf" "$(elapsed "$t")")")
    done
    rm -rf "$logdir"
    # The Debian package: built, installed into the system's PostgreSQL 15,
    # used and removed (as root, in CI or when asked: it touches system directories).
    if [[ "$(id -u)" -eq 0 && ( "${CI:-}" == true || "${PGMQ_DEB_TEST:-0}" == 1 ) ]]; then
        t0=$(date +%s)
        log "=============== Debian package (make deb, dpkg -i, tour, dpkg --purge) ==============="
        rc=0
        PGMQ_DEB_TEST=1 bash "$REPO/test/package/deb.sh" || rc=$?
        if [[ "$rc" -eq 0 ]]; then np=1; nf=0; else np=0; nf=1; fi
        total_pass=$((total_pass + np))
        total_fail=$((total_fail + nf))
        summary+=("$(printf '%-52s %s passed, %s failed  (%s)' "Debian package postgresql-15-pgmq:" "$np" "$nf" "$(elapsed $(($(date +%s) - t0)))")")
    fi
    echo
    log "summary"
    printf '  %s\n' "${summary[@]}"
    echo "$total_pass passed, $total_fail failed"
    ((total_fail == 0))
}

if [[ "$MODE" == test && -z "${PGMQ_HARNESS_VERSION:-}" ]]; then
    T_ALL=$(date +%s)
    rc=0
    run_all_versions || rc=$?
    log "make test took $(elapsed $(($(date +%s) - T_ALL)))"
    exit "$rc"
fi

# ---------------------------------------------------------------------------
# From here on: one version (a child run of `test`, or demo/bench/latency).
TMP="$(mktemp -d /tmp/pgmq-harness.XXXXXXXX)"
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT   # until the cluster's own clean-up takes over
case "$VERSION" in
    15)
        if [[ -n "${PGMQ_PGBIN:-}" ]]; then
            PGBIN="$PGMQ_PGBIN"
        else
            # A private relocated copy of the system's PostgreSQL 15 (it finds
            # its share and lib directories relative to its binaries): pgmq is
            # installed into it, never into the system's directories, so the
            # package test and other work trees see a clean server.
            mkdir -p "$TMP/pg15/usr/lib/postgresql" "$TMP/pg15/usr/share/postgresql" "$TMP/pg15/usr/include"
            cp -a /usr/lib/postgresql/15 "$TMP/pg15/usr/lib/postgresql/"
            cp -a /usr/share/postgresql/15 "$TMP/pg15/usr/share/postgresql/"
            cp -a /usr/include/postgresql "$TMP/pg15/usr/include/"
            PGBIN="$TMP/pg15/usr/lib/postgresql/15/bin"
        fi
        ;;
    18)
        # A private copy of the cached build: pgmq is installed into it, so runs
        # from several work trees at once do not share (or overwrite) one install.
        bash "$BUILD_PG" 18 || { rm -rf "$TMP"; die "could not build PostgreSQL 18"; }
        cp -a "$CACHE/pg18" "$TMP/pg18"
        PGBIN="$TMP/pg18/bin"
        ;;
    *)
        rm -rf "$TMP"
        die "PostgreSQL $VERSION: this harness runs 15 and 18 (17 is compiled only by make test)"
        ;;
esac
PG_CONFIG="$PGBIN/pg_config"
[[ -x "$PGBIN/initdb" ]] || die "$PGBIN/initdb not found (is postgresql-$VERSION installed?)"
[[ -x "$PG_CONFIG" ]] || die "$PG_CONFIG not found (is postgresql-server-dev-$VERSION installed?)"
id "$RUN_USER" >/dev/null 2>&1 || die "user '$RUN_USER' does not exist (it comes with postgresql-common)"
command -v "$PYTHON" >/dev/null || die "python interpreter '$PYTHON' not found"

# Clean environment for everything run as RUN_USER (tests, extras, walkthrough):
# PG15 binaries first, Debian's /usr/bin before /usr/local/bin so that python3
# and perl are the ones the Debian packages above were installed for.
RUN_HOME="$(getent passwd "$RUN_USER" | cut -d: -f6)"
CLEAN_ENV=(
    "PATH=$PGBIN:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin"
    "HOME=${RUN_HOME:-/tmp}" "USER=$RUN_USER" "LOGNAME=$RUN_USER"
    "LANG=C.UTF-8" "PG_CONFIG=$PG_CONFIG" "PYTHON=$PYTHON"
)
for v in PROVE_FLAGS PG_TEST_EXTRA PG_TEST_TIMEOUT_DEFAULT $(compgen -e PGMQ_ || true); do
    if [[ -n "${!v:-}" ]]; then CLEAN_ENV+=("$v=${!v}"); fi
done

# as_user CMD...: run CMD as RUN_USER with the clean environment.
as_user() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u "$RUN_USER" -- env -i "${CLEAN_ENV[@]}" "$@"
    else
        env -i "${CLEAN_ENV[@]}" "$@"
    fi
}

# ---------------------------------------------------------------------------
# 2. Build and install
T_STEP=$(date +%s)
log "building pgmq (PG_CONFIG=$PG_CONFIG, -Werror)"
make PG_CONFIG="$PG_CONFIG" clean >/dev/null || true
make PG_CONFIG="$PG_CONFIG" "${WERROR_MAKE[@]}" || die "build failed"
log "installing pgmq"
"${SUDO[@]}" make PG_CONFIG="$PG_CONFIG" "${WERROR_MAKE[@]}" install || die "make install failed"
log "build + install: $(($(date +%s) - T_STEP)) s"

# ---------------------------------------------------------------------------
# 3. Throwaway cluster
DATA="$TMP/data"
SERVER_LOG="$TMP/server.log"
PORT=""
STARTED=0
LOG_SHOWN=0
if [[ "$(id -u)" -eq 0 ]]; then chown "$RUN_USER": "$TMP"; fi

show_server_log() {
    if [[ "$LOG_SHOWN" == 0 && -f "$SERVER_LOG" ]]; then
        echo "----- server log tail ($SERVER_LOG) -----"
        tail -n 60 "$SERVER_LOG" || true
        echo "----- end of server log -----"
    fi
    LOG_SHOWN=1
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [[ "$rc" -ne 0 ]]; then show_server_log; fi
    if [[ "$KEEP" == 1 && "$STARTED" == 1 ]]; then
        echo
        echo "PGMQ_KEEP_CLUSTER=1: cluster left running (data dir $DATA, log $SERVER_LOG)."
        echo "  connect: psql -h $TMP -p $PORT -U postgres postgres"
        echo "       or: PGHOST=$TMP PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres <client>"
        if [[ "$(id -u)" -eq 0 ]]; then
            echo "  stop:    runuser -u $RUN_USER -- $PGBIN/pg_ctl -D $DATA stop -m fast && rm -rf $TMP"
        else
            echo "  stop:    $PGBIN/pg_ctl -D $DATA stop -m fast && rm -rf $TMP"
        fi
        exit "$rc"
    fi
    if [[ "$STARTED" == 1 ]]; then
        if ! as_user "$PGBIN/pg_ctl" -D "$DATA" -w -t 30 stop -m fast >/dev/null 2>&1; then
            as_user "$PGBIN/pg_ctl" -D "$DATA" -w -t 10 stop -m immediate >/dev/null 2>&1 ||
                echo "harness: warning: could not stop the cluster in $DATA" >&2
        fi
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() {
    local p="$1"
    if command -v ss >/dev/null; then
        [[ -n "$(ss -Hltn "( sport = :$p )" 2>/dev/null)" ]]
    else
        # exit status 2 = no response, i.e. nobody is listening
        local s=0
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$p" -t 1 || s=$?
        [[ "$s" -ne 2 ]]
    fi
}

log "initdb in $DATA (as $RUN_USER)"
as_user "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --no-sync -E UTF8 --locale=C >"$TMP/initdb.log" 2>&1 ||
    { cat "$TMP/initdb.log"; die "initdb failed"; }
cat >>"$DATA/postgresql.conf" <<EOF

# --- added by test/harness.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TMP'
shared_preload_libraries = 'pgmq'
fsync = off
max_connections = 100
max_prepared_transactions = 10
log_min_messages = warning
EOF

# Pick a free port from 55432 upward; retry if someone grabs it between the probe and the bind.
candidate=55432
for _ in $(seq 1 20); do
    while port_in_use "$candidate"; do candidate=$((candidate + 1)); done
    echo "port = $candidate" >>"$DATA/postgresql.conf"
    : >"$SERVER_LOG"
    if [[ "$(id -u)" -eq 0 ]]; then chown "$RUN_USER": "$SERVER_LOG"; fi
    if as_user "$PGBIN/pg_ctl" -D "$DATA" -l "$SERVER_LOG" -w -t 60 start >/dev/null; then
        PORT="$candidate"
        STARTED=1
        break
    fi
    if grep -qE 'could not (bind|create listen socket)|Address already in use' "$SERVER_LOG"; then
        log "port $candidate taken while starting, trying the next one"
        candidate=$((candidate + 1))
        continue
    fi
    die "the server did not start (see the log above)"
done
[[ "$STARTED" == 1 ]] || die "could not find a free port to start the server on"
log "cluster up: host $TMP (or 127.0.0.1), port $PORT, user postgres"

PGENV=("PGHOST=$TMP" "PGPORT=$PORT" "PGUSER=postgres" "PGDATABASE=postgres")

psql_admin() {
    as_user env "${PGENV[@]}" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}
# What this run tests: the server's version and the pg_partman it has (the parent's summary line).
log "versions: PostgreSQL $(psql_admin -At -c 'SHOW server_version' | awk '{print $1}') + pg_partman $(psql_admin -At -c "SELECT coalesce(max(default_version), 'none') FROM pg_available_extensions WHERE name = 'pg_partman'")"

# ---------------------------------------------------------------------------
# 4. test
PASSED=()
FAILED=()
suite_result() { # name status
    if [[ "$2" -eq 0 ]]; then
        PASSED+=("$1")
        log "suite $1: PASSED"
    else
        FAILED+=("$1")
        log "suite $1: FAILED (exit $2)"
    fi
}

print_file() { # path [tail-lines]
    local f="$1" n="${2:-}"
    if [[ ! -s "$f" ]]; then
        echo "(no $f, or it is empty: see the suite output above)"
        return 0
    fi
    if [[ -n "$n" ]]; then
        echo "----- tail of $f -----"
        tail -n "$n" "$f"
    else
        echo "----- $f -----"
        cat "$f"
    fi
    echo "----- end of $f -----"
}

run_tests() {
    local copy="$TMP/src" rc suites s
    T_STEP=$(date +%s)
    log "copying the working tree to $copy"
    mkdir -p "$copy"
    tar -C "$REPO" --exclude=./.git --exclude=./results --exclude=./output_iso \
        --exclude=./tmp_check --exclude=./tmp_check_iso --exclude=./regression.diffs \
        --exclude=./regression.out --exclude=./test/clients/node_modules -cf - . | tar -C "$copy" -xf -
    if [[ "$(id -u)" -eq 0 ]]; then chown -R "$RUN_USER": "$copy"; fi

    # Ask the Makefile which suites exist so this stays in step with it.
    # shellcheck disable=SC2016  # $(...) below is make syntax, not shell
    suites="$(cd "$copy" && as_user make -s --no-print-directory PG_CONFIG="$PG_CONFIG" \
        --eval='harness-print-suites: ; @echo "regress=$(if $(strip $(REGRESS)),1,0) isolation=$(if $(strip $(ISOLATION)),1,0) tap=$(if $(strip $(TAP_TESTS)),1,0)"' \
        harness-print-suites)" || die "could not ask the Makefile for its test suites"
    local has_regress=0 has_isolation=0 has_tap=0
    for s in $suites; do
        case "$s" in
            regress=1) has_regress=1 ;;
            isolation=1) has_isolation=1 ;;
            tap=1) has_tap=1 ;;
        esac
    done

    installcheck() { # extra make variable overrides...
        (cd "$copy" && as_user env "${PGENV[@]}" make PG_CONFIG="$PG_CONFIG" \
            PGHOST="$TMP" PGPORT="$PORT" PGUSER=postgres "$@" installcheck)
    }

    if [[ "$has_regress" == 1 ]]; then
        log "suite regress (pg_regress)"
        rc=0
        installcheck ISOLATION= TAP_TESTS= || rc=$?
        if [[ "$rc" -ne 0 ]]; then print_file "$copy/regression.diffs"; fi
        suite_result regress "$rc"
    else
        log "suite regress: skipped (no sql/*.sql tests)"
    fi

    if [[ "$has_isolation" == 1 ]]; then
        log "suite isolation (pg_isolation_regress)"
        rc=0
        installcheck REGRESS= TAP_TESTS= || rc=$?
        if [[ "$rc" -ne 0 ]]; then print_file "$copy/output_iso/regression.diffs"; fi
        suite_result isolation "$rc"
    else
        log "suite isolation: skipped (no test/specs/*.spec)"
    fi

    if [[ "$has_tap" == 1 ]]; then
        log "suite tap (prove)"
        rc=0
        installcheck REGRESS= ISOLATION= || rc=$?
        if [[ "$rc" -ne 0 ]]; then
            local f
            for f in "$copy"/tmp_check/log/*; do
                [[ -f "$f" ]] && print_file "$f" 40
            done
        fi
        suite_result tap "$rc"
    else
        log "suite tap: skipped (no test/t/*.pl)"
    fi

    local x name
    for x in "$copy"/test/extra/*.sh; do
        [[ -f "$x" ]] || continue
        name="extra/$(basename "$x")"
        log "suite $name"
        rc=0
        (cd "$copy" && as_user env "${PGENV[@]}" bash "$x") || rc=$?
        suite_result "$name" "$rc"
    done

    log "suite walkthrough (examples/python/demo.py --messages 2000 --consumers 5)"
    rc=0
    (cd "$copy" && as_user env "${PGENV[@]}" "$PYTHON" examples/python/demo.py \
        --messages 2000 --consumers 5) || rc=$?
    suite_result walkthrough "$rc"
    log "suites: $(($(date +%s) - T_STEP)) s"

    echo
    if ((${#FAILED[@]} > 0)); then
        show_server_log
        echo "failed suites: ${FAILED[*]}"
    fi
    echo "${#PASSED[@]} passed, ${#FAILED[@]} failed"
    ((${#FAILED[@]} == 0))
}

case "$MODE" in
    test)
        run_tests
        ;;
    demo)
        psql_admin -c 'CREATE EXTENSION IF NOT EXISTS pgmq'
        log "running examples/python/demo.py --messages 100000 --consumers 5"
        rc=0
        env "${PGENV[@]}" "$PYTHON" "$REPO/examples/python/demo.py" --messages 100000 --consumers 5 || rc=$?
        exit "$rc"
        ;;
    bench)
        psql_admin -c 'CREATE EXTENSION IF NOT EXISTS pgmq'
        log "running test/bench/run.sh"
        rc=0
        env "${PGENV[@]}" PATH="$PGBIN:$PATH" PG_CONFIG="$PG_CONFIG" PYTHON="$PYTHON" bash "$REPO/test/bench/run.sh" || rc=$?
        exit "$rc"
        ;;
    latency)
        psql_admin -c 'CREATE EXTENSION IF NOT EXISTS pgmq'
        log "running test/bench/latency.sh"
        rc=0
        env "${PGENV[@]}" PATH="$PGBIN:$PATH" PG_CONFIG="$PG_CONFIG" bash "$REPO/test/bench/latency.sh" || rc=$?
        exit "$rc"
        ;;
esac
