#!/usr/bin/env bash
# test/pg/build_pg18.sh owns getting PostgreSQL 18 (+ pg_partman 5) and PostgreSQL 17's headers
# onto a Debian 12 machine, cached outside the work tree, once per machine.
#
# Usage: bash test/pg/build_pg18.sh [18|17|all|path]     (default: all)
#
#   18   PostgreSQL 18 from Debian unstable's source package postgresql-18
#        (pristine upstream sources, Debian's patches are not applied), built with
#        --without-llvm --enable-tap-tests --with-icu --with-libxml, installed into $CACHE/pg18 together
#        with the contrib modules the tests use (amcheck), the isolation tester
#        and the TAP perl modules (so PGXS installcheck works), then
#        pg_partman 5 from Debian unstable's source package pg-partman.
#   17   the headers of Debian 13's postgresql-server-dev-17 .deb, unpacked into
#        $CACHE/pg17-headers with a pg_config stand-in that points PGXS at them
#        (compile-only: there is no server).
#   path print the cache directory and exit.
#
# Apt is run with its own sources list, lists and archive cache under $CACHE/apt,
# built from the archive address in the system's apt sources; the system's own
# lists are never touched. Source and binary packages are only downloaded, never
# installed. Prints how long each step took. A finished step leaves a stamp file
# and is skipped on the next run; a flock keeps two runs from building at once.
#
# Environment:
#   PGMQ_CACHE   cache directory (default /var/cache/pgmq as root, else ~/.cache/pgmq)
#   PGMQ_JOBS    make -j (default: number of CPUs)
#   PGMQ_MIRROR  Debian archive URL (default: taken from /etc/apt/sources*)
set -euo pipefail

WHAT="${1:-all}"
case "$WHAT" in 17 | 18 | all | path) ;; *) echo "usage: $0 [18|17|all|path]" >&2; exit 2 ;; esac

if [[ -n "${PGMQ_CACHE:-}" ]]; then
    CACHE="$PGMQ_CACHE"
elif [[ "$(id -u)" -eq 0 ]]; then
    CACHE=/var/cache/pgmq
else
    CACHE="$HOME/.cache/pgmq"
fi
JOBS="${PGMQ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
if [[ "$WHAT" == path ]]; then echo "$CACHE"; exit 0; fi
mkdir -p "$CACHE"
chmod 755 "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

log() { printf '==> [build_pg] %s\n' "$*"; }
die() { printf 'build_pg: error: %s\n' "$*" >&2; exit 1; }

# step NAME CMD...: run CMD, print how long it took.
step() {
    local name="$1" t0 rc=0
    shift
    t0=$(date +%s)
    log "$name ..."
    "$@" || rc=$?
    log "$name: $(($(date +%s) - t0)) s$([[ $rc -ne 0 ]] && echo " (FAILED, exit $rc)")"
    return "$rc"
}

# lock NAME: hold $CACHE/.lock-NAME until the script exits (one build of each thing at a time).
lock() {
    exec 9>"$CACHE/.lock-$1"
    if ! flock -n 9; then
        log "another run holds $CACHE/.lock-$1; waiting for it"
        flock 9
    fi
}

# ---------------------------------------------------------------------------
# Private apt configuration.
mirror() {
    if [[ -n "${PGMQ_MIRROR:-}" ]]; then echo "$PGMQ_MIRROR"; return; fi
    local m
    m="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')"
    if [[ -z "$m" ]]; then
        m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*\/debian\/?$/) { print $i; exit } }')"
    fi
    echo "${m:-http://deb.debian.org/debian}"
}
APTDIR="$CACHE/apt"
APT=()
apt_setup() {
    local m
    m="$(mirror)"
    mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/parts" "$APTDIR/prefs"
    cat >"$APTDIR/sources.list" <<SRC
deb-src $m unstable main
deb $m trixie main
SRC
    APT=(apt-get -q
        -o "Dir::Etc::SourceList=$APTDIR/sources.list"
        -o "Dir::Etc::SourceParts=$APTDIR/parts"
        -o "Dir::Etc::PreferencesParts=$APTDIR/prefs"
        -o "Dir::State::Lists=$APTDIR/lists"
        -o "Dir::Cache=$APTDIR/cache"
        -o "APT::Get::List-Cleanup=false"
        -o "Debug::NoLocking=true")
    if [[ ! -f "$APTDIR/lists/.updated" || -n "$(find "$APTDIR/lists/.updated" -mmin +1440 2>/dev/null)" ]]; then
        step "apt-get update (private lists in $APTDIR, mirror $m)" "${APT[@]}" update
        touch "$APTDIR/lists/.updated"
    fi
}

# fetch_source PKG DIR: download the Debian source package PKG into DIR and unpack the
# upstream sources (Debian's patches are not applied) into DIR/src.  apt checks every
# file against the hashes of the signed Sources index.  When the mirror serves the
# upstream tarball but not the Debian files (seen for pg-partman: its .dsc answered
# 404 while the .orig.tar.gz downloaded), the upstream tarball alone is enough.
fetch_source() {
    local pkg="$1" dir="$2" dsc orig
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$dir"
    (cd "$dir" && "${APT[@]}" source --download-only "$pkg" >&2) ||
        log "apt-get source $pkg did not fetch every file; trying with what it got"
    dsc="$(ls "$dir"/*.dsc 2>/dev/null | head -n 1 || true)"
    orig="$(ls "$dir"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n 1 || true)"
    if [[ -n "$dsc" ]]; then
        (cd "$dir" && dpkg-source --skip-patches --no-check -x "$(basename "$dsc")" src >&2)
    elif [[ -n "$orig" ]]; then
        mkdir -p "$dir/src"
        tar -C "$dir/src" --strip-components=1 -xf "$orig"
    else
        die "could not download the source of $pkg"
    fi
}

# Debian packages the build needs (test/harness.sh installs them): since PostgreSQL 17 the
# source tarball has no pre-generated parser files, hence bison and flex.
BUILD_DEPS=(build-essential bison flex dpkg-dev pkg-config libicu-dev libreadline-dev zlib1g-dev libxml2-dev libipc-run-perl)
# --with-libxml: Debian's servers have it, and monitoring/postgres_exporter_queries.yaml
# uses query_to_xml/xpath.  A cache built with other options is rebuilt.
PG18_CONFIGURE=(--without-llvm --enable-tap-tests --with-icu --with-libxml)
check_deps() {
    local p missing=()
    for p in "${BUILD_DEPS[@]}"; do
        if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]} == 0)) || die "missing Debian packages: ${missing[*]} (apt-get install them, or run make test)"
}

# ---------------------------------------------------------------------------
build18() {
    local prefix="$CACHE/pg18" stamp="$CACHE/pg18/.pgmq-built" src psrc t_all
    local server_stamp="$CACHE/pg18/.pgmq-server-built"
    lock 18
    if [[ -f "$server_stamp" ]] && ! grep -qxF "configure: ${PG18_CONFIGURE[*]}" "$server_stamp"; then
        log "cached PostgreSQL 18 was configured differently; building it again"
        rm -f "$server_stamp" "$stamp"
    fi
    if [[ -f "$stamp" && -x "$prefix/bin/pg_config" ]]; then
        log "PostgreSQL 18 already built: $(cat "$stamp") in $prefix"
        return
    fi
    t_all=$(date +%s)
    check_deps
    apt_setup
    local work="$CACHE/build18"
    mkdir -p "$work"
    if [[ ! -f "$server_stamp" ]]; then
        step "download postgresql-18 source" fetch_source postgresql-18 "$work/pg"
        src="$work/pg/src"
        [[ -f "$src/configure" ]] || die "postgresql-18 source not unpacked in $src"
        rm -rf "$prefix"
        step "configure PostgreSQL 18" bash -c "cd '$src' && ./configure --prefix='$prefix' ${PG18_CONFIGURE[*]} \
            >'$work/configure.log' 2>&1 || { tail -n 40 '$work/configure.log'; exit 1; }"
        step "make -j$JOBS (server)" bash -c "cd '$src' && make -s -j'$JOBS' >'$work/make.log' 2>&1 || { tail -n 60 '$work/make.log'; exit 1; }"
        step "make install (server, contrib/amcheck, isolation tester, TAP modules)" bash -c "
            set -e
            cd '$src'
            make -s install >'$work/install.log' 2>&1
            make -s -j'$JOBS' -C contrib/amcheck install >>'$work/install.log' 2>&1
            make -s -j'$JOBS' -C src/test/isolation install >>'$work/install.log' 2>&1
            make -s -C src/test/perl install >>'$work/install.log' 2>&1
        " || { tail -n 60 "$work/install.log"; die "install failed"; }
        { "$prefix/bin/pg_config" --version; echo "configure: ${PG18_CONFIGURE[*]}"; } >"$server_stamp"
        rm -rf "$work/pg"
    fi
    # pg_partman 5 against the server just installed.
    step "download pg-partman source" fetch_source pg-partman "$work/partman"
    psrc="$work/partman/src"
    step "build + install pg_partman" bash -c "cd '$psrc' && make -s -j'$JOBS' PG_CONFIG='$prefix/bin/pg_config' >'$work/partman.log' 2>&1 \
        && make -s PG_CONFIG='$prefix/bin/pg_config' install >>'$work/partman.log' 2>&1 || { tail -n 40 '$work/partman.log'; exit 1; }"
    printf 'PostgreSQL %s, pg_partman %s\n' "$("$prefix/bin/pg_config" --version | awk '{print $2}')" \
        "$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$prefix/share/postgresql/extension/pg_partman.control")" >"$stamp"
    chmod -R a+rX "$prefix"
    rm -rf "$work"
    log "PostgreSQL 18 ready in $prefix ($(cat "$stamp")); total $(($(date +%s) - t_all)) s"
}

# ---------------------------------------------------------------------------
headers17() {
    local root="$CACHE/pg17-headers" stamp="$CACHE/pg17-headers/.pgmq-built"
    lock 17
    # "[layout N]" in the stamp: bumped when the unpacked tree is fixed up differently
    if [[ -x "$root/bin/pg_config" ]] && grep -qF '[layout 2]' "$stamp" 2>/dev/null; then
        log "PostgreSQL 17 headers already unpacked: $(cat "$stamp") in $root"
        return
    fi
    apt_setup
    local work="$CACHE/dl17"
    rm -rf "$work" "$root"
    mkdir -p "$work" "$root/bin"
    # Headers are in postgresql-server-dev-17; Makefile.global and pgxs.mk are in
    # postgresql-client-17, whose pg_config needs a newer glibc than Debian 12's.
    step "download postgresql-server-dev-17 and postgresql-client-17 (Debian 13)" \
        bash -c "cd '$work' && chmod 755 . && ${APT[*]@Q} download postgresql-server-dev-17 postgresql-client-17"
    step "unpack headers and PGXS" bash -c "for d in '$work'/*.deb; do dpkg-deb -x \"\$d\" '$root/root'; done"
    local inc="$root/root/usr/include/postgresql" pgxs="$root/root/usr/lib/postgresql/17/lib/pgxs/src/makefiles/pgxs.mk"
    local global="$root/root/usr/lib/postgresql/17/lib/pgxs/src/Makefile.global"
    [[ -f "$inc/17/server/pg_config.h" && -f "$pgxs" && -f "$global" ]] ||
        die "postgresql-server-dev-17 / postgresql-client-17 did not unpack as expected"
    # Debian 13 builds with LLVM (clang-19, which Debian 12 lacks): compile without bitcode.
    sed -i 's/^with_llvm[[:space:]]*=.*/with_llvm\t= no/' "$global"
    # pg_config.h describes Debian 13's glibc (2.41), which declares strlcpy and
    # strlcat; this machine's may not (Debian 12's 2.36 does not).  Say so, so that
    # port.h declares PostgreSQL's own, as on a 17 built here.
    local fn FN
    for fn in strlcpy strlcat; do
        FN="$(echo "$fn" | tr a-z A-Z)"
        if ! printf '#include <string.h>\nvoid *p = (void *) %s;\n' "$fn" |
            gcc -D_GNU_SOURCE -Werror=implicit-function-declaration -x c -c -o /dev/null - 2>/dev/null; then
            sed -i "s/^#define HAVE_DECL_$FN 1$/#define HAVE_DECL_$FN 0/" "$inc/17/server/pg_config.h"
        fi
    done
    local ver
    ver="$(sed -n 's/^#define PG_VERSION "\(.*\)"/\1/p' "$inc/17/server/pg_config.h")"
    # The real pg_config of the package answers from its compiled-in paths; this stand-in
    # answers with the unpacked tree, and with the flags Debian 13 built 17 with.
    cat >"$root/bin/pg_config" <<PGC
#!/bin/sh
# pg_config stand-in for compile-only checks against Debian 13's PostgreSQL $ver headers.
R='$root/root'
for a in "\$@"; do
  case "\$a" in
    --version) echo "PostgreSQL $ver" ;;
    --pgxs) echo "\$R/usr/lib/postgresql/17/lib/pgxs/src/makefiles/pgxs.mk" ;;
    --includedir|--pkgincludedir) echo "\$R/usr/include/postgresql" ;;
    --includedir-server) echo "\$R/usr/include/postgresql/17/server" ;;
    --libdir) echo "\$R/usr/lib/x86_64-linux-gnu" ;;
    --pkglibdir) echo "\$R/usr/lib/postgresql/17/lib" ;;
    --bindir) echo "\$R/usr/lib/postgresql/17/bin" ;;
    --sharedir) echo "\$R/usr/share/postgresql/17" ;;
    --docdir|--htmldir) echo "\$R/usr/share/doc/postgresql" ;;
    --mandir) echo "\$R/usr/share/postgresql/17/man" ;;
    --localedir) echo "\$R/usr/share/locale" ;;
    --sysconfdir) echo "\$R/etc/postgresql-common" ;;
    --cc) echo "gcc" ;;
    --cppflags) echo "-D_GNU_SOURCE" ;;
    --cflags) echo "-Wall -Wmissing-prototypes -Wpointer-arith -Wdeclaration-after-statement -Werror=vla -Wendif-labels -Wmissing-format-attribute -Wimplicit-fallthrough=3 -Wcast-function-type -Wshadow=compatible-local -Wformat-security -fno-strict-aliasing -fwrapv -fexcess-precision=standard -Wno-format-truncation -Wno-stringop-truncation -g -O2" ;;
    --cflags_sl) echo "-fPIC" ;;
    --ldflags|--ldflags_ex|--ldflags_sl) echo "" ;;
    --libs) echo "-lpgcommon -lpgport -lz -lm" ;;
    --configure) echo "" ;;
    *) echo "pg_config stand-in: unsupported option \$a" >&2; exit 1 ;;
  esac
done
PGC
    chmod 755 "$root/bin/pg_config"
    echo "PostgreSQL $ver headers (Debian 13 postgresql-server-dev-17) [layout 2]" >"$stamp"
    chmod -R a+rX "$root"
    rm -rf "$work"
    log "PostgreSQL 17 headers ready: $root/bin/pg_config"
}

case "$WHAT" in
    18) build18 ;;
    17) headers17 ;;
    all) (headers17); build18 ;;
esac
