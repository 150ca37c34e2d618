#!/usr/bin/env bash
# test/extra/fifo_stress.sh: FIFO groups under real concurrency.
#
# Four pgbench clients drain a queue of 20 groups x 30 messages with
# read_grouped and read_grouped_rr, once with the fifo index and once
# without.  Each client reads in one transaction (a quarter of them roll
# back) and deletes what it got in the next, so messages stay in flight in
# between.  Right after each read, still inside its transaction, a check
# raises an error if any message of the batch has an earlier message of its
# group still in the queue (in flight with another consumer, or skipped).
# At the end every message must have been delivered (committed) exactly
# once, and within each group in msg_id order.
#
# Then the same on a prioritised queue with a message retention (issue 16),
# with and without the index: random priorities 0-9, and every 7th message
# expired (enqueued three hours ago, retention one hour).  Expired messages
# are as if removed: never delivered, never holding back their group (the
# check ignores them); every other message is delivered exactly once, in
# order within its group.
set -euo pipefail

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

run_case() { # queue index(yes|no) [features: prio_ret]
    local q="$1" idx="$2" feat="${3:-}"
    # a message still to deliver: with the retention, an unexpired one
    # (live_m: the same inside the check's format() string literal); msg_id
    # is i, so the expired ones are the multiples of 7
    local live="true" live_m="true" prio="" expected=600 expired="false"
    if [[ "$feat" == prio_ret ]]; then
        live="enqueued_at >= now() - interval '1 hour'"
        live_m="m.enqueued_at >= now() - interval ''1 hour''"
        prio=", 'x-pgmq-priority', i % 10"
        expected=515            # 600 minus the 85 multiples of 7
        expired="msg_id % 7 = 0"
    fi
    psql_q >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgmq;
SELECT pgmq.drop_queue('$q');
SELECT pgmq.create('$q');
$( [[ "$idx" == yes ]] && echo "SELECT pgmq.create_fifo_index('$q');" )
DROP TABLE IF EXISTS ${q}_log;
CREATE TABLE ${q}_log (seq bigserial PRIMARY KEY, grp text, msg_id bigint);
-- raise if a message in temp table got has an earlier message of its group
-- in queue table qtable (other than ones in got)
CREATE OR REPLACE FUNCTION fifo_stress_check(qtable text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE bad text;
BEGIN
    EXECUTE format('SELECT string_agg(g.msg_id::text, '','') FROM got g
                     WHERE EXISTS (SELECT 1 FROM pgmq.%I m
                                    WHERE m.headers->>''x-pgmq-group'' = g.grp
                                      AND m.msg_id < g.msg_id AND $live_m
                                      AND m.msg_id NOT IN (SELECT msg_id FROM got))', qtable) INTO bad;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'fifo violation: got % while an earlier message of its group is in the queue', bad;
    END IF;
END \$\$;
$( [[ "$feat" == prio_ret ]] && echo "SELECT pgmq.enable_priorities('$q'); SELECT pgmq.set_retention('$q', '1 hour', NULL);" )
SELECT count(*) FROM (SELECT pgmq.send('$q', jsonb_build_object('i', i),
                                       jsonb_build_object('x-pgmq-group', 'g' || (i % 20) $prio))
                        FROM generate_series(1, 600) i) s;
$( [[ "$feat" == prio_ret ]] && echo "UPDATE pgmq.q_$q SET enqueued_at = now() - interval '3 hours' WHERE (message->>'i')::int % 7 = 0;" )
SQL
    for fn in read_grouped read_grouped_rr; do
        cat >"$WORK/$fn.sql" <<SQL
\set qty random(1, 4)
\set fail random(0, 3)
CREATE TEMP TABLE IF NOT EXISTS got (msg_id bigint, grp text);
TRUNCATE got;
BEGIN;
INSERT INTO got SELECT msg_id, headers->>'x-pgmq-group' FROM pgmq.$fn('$q', 30, :qty);
SELECT fifo_stress_check('q_$q');
INSERT INTO ${q}_log (grp, msg_id) SELECT grp, msg_id FROM got ORDER BY msg_id;
\if :fail = 0
ROLLBACK;
\else
COMMIT;
SELECT count(*) FROM pgmq.delete('$q', ARRAY(SELECT msg_id FROM got));
\endif
SQL
    done
    if ! PGOPTIONS='-c client_min_messages=warning' pgbench -n -c 4 -j 2 -T 3 \
            -f "$WORK/read_grouped.sql" -f "$WORK/read_grouped_rr.sql" >"$WORK/pgbench.log" 2>&1 ||
            grep -q 'aborted' "$WORK/pgbench.log"; then
        cat "$WORK/pgbench.log"
        echo "fifo_stress: FAILED for $q (a client hit an error)"
        exit 1
    fi
    # drain what is left with one consumer
    psql_q -c "DO \$\$ BEGIN
        WHILE EXISTS (SELECT 1 FROM pgmq.q_$q WHERE $live) LOOP
            INSERT INTO ${q}_log (grp, msg_id)
              SELECT headers->>'x-pgmq-group', msg_id FROM pgmq.read_grouped('$q', 30, 5) ORDER BY msg_id;
            PERFORM pgmq.delete('$q', ARRAY(SELECT msg_id FROM ${q}_log));
        END LOOP; END \$\$;"
    local result
    result="$(psql_q -At -c "
        SELECT (SELECT count(*) FROM ${q}_log) || ' ' ||
               (SELECT count(DISTINCT msg_id) FROM ${q}_log) || ' ' ||
               (SELECT count(*) FROM (SELECT msg_id < lag(msg_id) OVER (PARTITION BY grp ORDER BY seq) AS back
                                        FROM ${q}_log) s WHERE back) || ' ' ||
               (SELECT count(*) FROM pgmq.q_$q WHERE $live) || ' ' ||
               (SELECT count(*) FROM ${q}_log WHERE $expired)")"
    local tx
    tx="$(grep -E '^number of transactions actually processed' "$WORK/pgbench.log" | awk '{print $NF}')"
    echo "fifo_stress[$q, index=$idx${feat:+, $feat}]: $tx transactions; deliveries, distinct, out of order, left, expired delivered = $result"
    [[ "$result" == "$expected $expected 0 0 0" ]] || { echo "fifo_stress: FAILED for $q"; exit 1; }
    psql_q -c "SELECT pgmq.drop_queue('$q'); DROP TABLE ${q}_log;" >/dev/null
}

run_case fifo_stress_idx yes
run_case fifo_stress_noidx no
run_case fifo_stress_feat_idx yes prio_ret
run_case fifo_stress_feat_noidx no prio_ret
echo "fifo_stress: ok"
