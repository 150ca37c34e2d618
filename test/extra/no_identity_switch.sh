#!/usr/bin/env bash
# test/extra/no_identity_switch.sh: every pgmq function runs its SQL as the
# caller (docs/security.md).  Fails if src/ switches identity (the C calls
# that change the current user or security context) or if an install or
# upgrade script declares a SECURITY DEFINER function.  The behaviour itself
# is tested in sql/security_caller_rights.sql; this keeps the calls out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
found=0
if grep -nE '\b(SetUserIdAndSecContext|SetUserIdAndContext|SetSessionAuthorization|SetCurrentRoleId)\s*\(' src/*.c src/*.h; then
    echo "no_identity_switch: src/ switches identity (above)" >&2
    found=1
fi
if grep -niE 'SECURITY[[:space:]]+DEFINER' sql/pgmq--*.sql; then
    echo "no_identity_switch: a SECURITY DEFINER function in the SQL scripts (above)" >&2
    found=1
fi
if [[ "$found" == 0 ]]; then
    echo "no_identity_switch: ok (no identity switch in src/, no SECURITY DEFINER function)"
fi
exit "$found"
