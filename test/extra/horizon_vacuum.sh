#!/usr/bin/env bash
# test/extra/horizon_vacuum.sh: the queue vacuum worker while the MVCC horizon
# is pinned (docs/horizon.md), on the harness cluster (pgmq preloaded).  With
# one session idle in a transaction that holds an xid, consumed messages stay
# dead rows that VACUUM cannot remove: the worker vacuums the table once and
# then leaves it alone until the horizon moves (instead of re-reading it
# every second), and vacuums it as soon as the pin is gone.
set -euo pipefail

fail() { echo "horizon_vacuum: FAIL: $*" >&2; exit 1; }
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# wait_for SECONDS SQL: poll until SQL returns t
wait_for() {
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        [[ "$(sql -c "$2")" == t ]] && return 0
        sleep 0.2
    done
    return 1
}
vacuums() { sql -c "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'pgmq.q_hzv'::regclass"; }
dead() { sql -c "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'pgmq.q_hzv'::regclass"; }

sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create('hzv');
SQL

# the pin: an xid, idle in transaction until its input ends
exec 3> >(sql >/dev/null)
PIN=$!
echo "BEGIN; SELECT pg_catalog.pg_current_xact_id();" >&3
wait_for 10 "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE state = 'idle in transaction'
                             AND backend_xid IS NOT NULL)" || fail "the pinning session did not start"

sql >/dev/null <<'SQL'
SELECT count(*) FROM pgmq.send_batch('hzv', array_fill('{"a": 1}'::jsonb, ARRAY[5000]));
SELECT count(*) FROM pgmq.pop('hzv', 4000);
SQL
wait_for 30 "SELECT vacuum_count > 0 FROM pg_stat_user_tables WHERE relid = 'pgmq.q_hzv'::regclass" ||
    fail "q_hzv was not vacuumed within 30 s of consuming 4000 messages"
[[ "$(dead)" -ge 4000 ]] || fail "the pinned horizon did not keep the dead rows ($(dead) left)"

# pinned: no more vacuums, though the dead rows stay over the threshold
before="$(vacuums)"
sleep 5
after="$(vacuums)"
[[ "$after" -le $((before + 1)) ]] ||
    fail "q_hzv was vacuumed $((after - before)) times in 5 s while nothing could be removed"
sql -c "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pgmq queue vacuum worker')" |
    grep -q t || fail "the worker left while a table waits for the horizon"

# unpinned: vacuumed within seconds, the dead rows gone
echo "COMMIT;" >&3
exec 3>&-
wait "$PIN" 2>/dev/null || true
wait_for 30 "SELECT n_dead_tup < 1000 FROM pg_stat_user_tables WHERE relid = 'pgmq.q_hzv'::regclass" ||
    fail "q_hzv was not vacuumed within 30 s of the horizon moving ($(dead) dead rows)"

sql -c "SELECT pgmq.drop_queue('hzv')" >/dev/null
echo "horizon_vacuum: ok"
