#!/usr/bin/env bash
# test/extra/read_multi_wakeup.sh: read_multi_with_poll is woken by a commit
# to any of the queues it waits on (one registration for all of them, see
# src/wakeup.c), not by its poll interval.  Each of TRIALS trials starts a
# consumer waiting on three queues with poll_interval_ms = 20000 and
# max_poll_seconds = 30, commits a send to one of the three (in turn) 0-300
# ms later, and requires the consumer to return that message within 3 s; a
# consumer that polled would take 20 s.  Needs the harness's preloaded
# cluster (PGHOST/PGPORT/PGUSER).
set -euo pipefail
TRIALS="${TRIALS:-12}"
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

psql_q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create('rmw_' || i) FROM generate_series(1, 3) i;
SQL
cleanup() { psql_q -c "SELECT pgmq.drop_queue('rmw_' || i) FROM generate_series(1, 3) i" >/dev/null; }
trap cleanup EXIT

fail=0
for t in $(seq 1 "$TRIALS"); do
    q="rmw_$(( (t % 3) + 1 ))"
    out="$(mktemp)"
    start=$(date +%s%N)
    psql_q -c "SELECT queue_name || ' ' || (message->>'t') FROM pgmq.read_multi_with_poll(ARRAY['rmw_1', 'rmw_2', 'rmw_3'], 30, 1, 30, 20000)" >"$out" &
    consumer=$!
    sleep "0.$(( RANDOM % 300 + 100 ))"
    psql_q -c "SELECT pgmq.send('$q', jsonb_build_object('t', $t))" >/dev/null
    wait "$consumer"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    got="$(cat "$out")"
    rm -f "$out"
    if [[ "$got" != "$q $t" || "$ms" -gt 3400 ]]; then
        echo "trial $t: FAILED: expected \"$q $t\" within 3.4 s, got \"$got\" after $ms ms"
        fail=1
    else
        echo "trial $t: $q woke the consumer, $ms ms from its start"
    fi
done
if [[ "$fail" == 0 ]]; then echo "read_multi_with_poll: every trial woken by its commit"; fi
exit "$fail"
