#!/usr/bin/env bash
# test/extra/retention_worker.sh: the queue vacuum worker applies retention
# (src/retention.c, hooked into src/queue_vacuum.c): expired messages of a
# queue with a message retention disappear without any call, in bounded
# steps, and metrics counts them.  Needs the harness's preloaded cluster
# (PGHOST/PGPORT/PGUSER).  The worker is started the way consumers start it
# (by consuming rows), then 1500 messages are made older than the retention.
set -euo pipefail
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

psql_q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.create('rtw');
SELECT pgmq.set_retention('rtw', '1 minute', NULL);
-- consuming rows starts the database's worker
SELECT count(*) FROM pgmq.send_batch('rtw', array_fill('{}'::jsonb, ARRAY[600]));
SELECT count(*) FROM pgmq.pop('rtw', 600);
SELECT count(*) FROM pgmq.send_batch('rtw', array_fill('{"old": true}'::jsonb, ARRAY[1500]));
UPDATE pgmq.q_rtw SET enqueued_at = now() - interval '2 minutes';
SELECT pgmq.send('rtw', '{"young": true}');
SQL
cleanup() { psql_q -c "SELECT pgmq.drop_queue('rtw')" >/dev/null; }
trap cleanup EXIT

for i in $(seq 1 30); do
    left="$(psql_q -c "SELECT count(*) FROM pgmq.q_rtw WHERE message ? 'old'")"
    [[ "$left" == 0 ]] && break
    sleep 0.5
done
young="$(psql_q -c "SELECT count(*) FROM pgmq.q_rtw WHERE message ? 'young'")"
expired="$(psql_q -c "SELECT retention_expired FROM pgmq.metrics('rtw')")"
echo "after $((i / 2)) s: $left expired messages left, $young young kept, metrics retention_expired = $expired"
if [[ "$left" != 0 || "$young" != 1 || "$expired" != 1500 ]]; then
    echo "FAILED: the worker did not apply the retention"
    exit 1
fi
echo "retention applied by the queue vacuum worker"
