#!/usr/bin/env bash
# test/extra/meta_json.sh: META.json is valid against the PGXN Meta Spec
# v1.0.0 and agrees with pgmq.control, and the validator rejects broken
# copies of it (test/package/check_meta.py --self-test).  Needs python3 only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
python3 test/package/check_meta.py --self-test META.json
