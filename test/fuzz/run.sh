#!/usr/bin/env bash
# test/fuzz/run.sh owns building and running the libFuzzer target for pgmq's validators.
#
# Usage: bash test/fuzz/run.sh [seconds]     (default: $FUZZ_SECONDS, else 60)
#
# Installs clang and the libFuzzer runtime from Debian if they are missing
# (needs root or sudo), builds test/fuzz/fuzz_validators.c with the pure-C
# validators from src/ under ASan + UBSan, fuzzes for a bounded time starting
# from the seeds in test/fuzz/corpus (new inputs go to a scratch directory,
# the repository is not written), and prints how many executions ran.
# Exit status: 0 no finding, 1 a finding (the crashing input is kept and
# its path printed), 2 could not build or run.
set -euo pipefail

SECONDS_TO_RUN="${1:-${FUZZ_SECONDS:-60}}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ="$REPO/test/fuzz"
# The target links every pure-C file of src/ (those without postgres.h): the
# name rule today, the routing validators when src/routing.c arrives.
SOURCES=("$FUZZ/fuzz_validators.c")
for f in "$REPO"/src/*.c; do
    grep -q '#include "postgres.h"' "$f" || SOURCES+=("$f")
done

die() { echo "fuzz: $*" >&2; exit 2; }

find_clang() {
    local c
    for c in "${CLANG:-}" clang-14 clang; do
        [[ -n "$c" ]] && command -v "$c" >/dev/null && { echo "$c"; return; }
    done
}

fuzzer_runtime_present() { # clang
    local dir
    dir="$("$1" -print-resource-dir 2>/dev/null)" || return 1
    compgen -G "$dir/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null
}

CC_FUZZ="$(find_clang || true)"
if [[ -z "$CC_FUZZ" ]] || ! fuzzer_runtime_present "$CC_FUZZ"; then
    echo "fuzz: installing clang and the libFuzzer runtime from Debian"
    if [[ "$(id -u)" -eq 0 ]]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
        die "clang with libFuzzer is missing and there is no way to install it (not root, no sudo)"
    fi
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang-14 libclang-rt-14-dev >/dev/null
    CC_FUZZ="$(find_clang || true)"
    [[ -n "$CC_FUZZ" ]] && fuzzer_runtime_present "$CC_FUZZ" || die "clang/libFuzzer still missing after install"
fi

WORK="$(mktemp -d /tmp/pgmq-fuzz.XXXXXXXX)"
trap 'rm -rf "$WORK"' EXIT
BIN="$WORK/fuzz_validators"
"$CC_FUZZ" -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$REPO/src" "${SOURCES[@]}" -o "$BIN" ||
    die "build failed"

mkdir -p "$WORK/corpus" "$WORK/artifacts"
echo "fuzz: running $(basename "$BIN") for ${SECONDS_TO_RUN}s (seeds: test/fuzz/corpus)"
rc=0
"$BIN" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -max_len=512 \
    -artifact_prefix="$WORK/artifacts/" "$WORK/corpus" "$FUZZ/corpus" >"$WORK/log" 2>&1 || rc=$?
execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/log" | tail -1)"
if [[ "$rc" -ne 0 ]]; then
    tail -n 40 "$WORK/log"
    keep="/tmp/pgmq-fuzz-findings.$$"
    cp -r "$WORK/artifacts" "$keep"
    echo "fuzz: FINDING after ${execs:-?} executions; crashing input(s) kept in $keep"
    exit 1
fi
[[ -n "$execs" ]] || { tail -n 20 "$WORK/log"; die "libFuzzer printed no statistics"; }
echo "fuzz: $execs executions in ${SECONDS_TO_RUN}s, no finding ($(ls "$WORK/corpus" | wc -l) new corpus inputs)"
