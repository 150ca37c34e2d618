#!/usr/bin/env bash
# test/extra/wakeup_race.sh: no lost wakeups.  Runs 500 trials of the latency
# client (test/bench/latency.c) in race mode against the harness's preloaded
# cluster: the producer commits 0-2 ms after the consumer's read_with_poll
# starts, so commits land before, between and after the consumer's
# registration, read and sleep.  Every trial must return its message within
# 1 s (max_poll_seconds is 120); the client exits non-zero otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
pg_config="${PG_CONFIG:-pg_config}"
cc -O2 -Wall -o "$out/latency" test/bench/latency.c \
    -I"$("$pg_config" --includedir)" -L"$("$pg_config" --libdir)" -lpq -lpthread
"$out/latency" -r -n 500 -d 2 -l "race: commit 0-2 ms after the wait starts"
