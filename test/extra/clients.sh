#!/usr/bin/env bash
# test/extra/clients.sh owns the third-party client suite: install the pinned
# pgmq-js (test/clients/package-lock.json) with `npm ci`, unmodified, and run
# test/clients/pgmq_js.test.mjs against the server in PGHOST/PGPORT/PGUSER/
# PGDATABASE (set by test/harness.sh). Exit status non-zero = failure.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../clients" && pwd)"
for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "clients.sh: $tool not found (the harness installs nodejs and npm)" >&2; exit 1; }
done
echo "node $(node --version), npm $(npm --version)"

cd "$dir"
# npm keeps its cache under $HOME; fall back to a private one if that is not writable.
if [[ ! -w "${HOME:-/nonexistent}" ]]; then
    export npm_config_cache="$dir/.npm-cache"
fi
npm ci --no-audit --no-fund --no-update-notifier --loglevel=error
echo "installed pgmq-js $(node -p 'require("./node_modules/pgmq-js/package.json").version')," \
     "pg $(node -p 'require("./node_modules/pg/package.json").version')"

node --test-reporter=spec pgmq_js.test.mjs
