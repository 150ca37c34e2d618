#!/usr/bin/env bash
# test/extra/fuzz.sh owns the short libFuzzer run inside `make test` (make fuzz runs longer).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash test/fuzz/run.sh "${PGMQ_FUZZ_SECONDS:-15}"
