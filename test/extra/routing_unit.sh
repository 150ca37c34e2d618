#!/usr/bin/env bash
# test/extra/routing_unit.sh: build src/routing.c (pure C, no server) with the
# unit test test/unit/routing_test.c and run it, with the address and
# undefined-behaviour sanitizers when the compiler has them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc="${CC:-cc}"
flags=(-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -Isrc)
if echo 'int main(void){return 0;}' | "$cc" -x c - -fsanitize=address,undefined -o "$out/probe" 2>/dev/null &&
    "$out/probe" 2>/dev/null; then
    flags+=(-fsanitize=address,undefined -fno-sanitize-recover=all)
fi
"$cc" "${flags[@]}" test/unit/routing_test.c src/routing.c -o "$out/routing_test"
"$out/routing_test"
