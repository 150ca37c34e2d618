#!/usr/bin/env bash
# test/bench/horizon.sh: throughput and end-to-end latency of consumers while
# the MVCC horizon is pinned (issue 14, docs/horizon.md).
#
# For each load and each pinning mode, one run of three phases: clean
# (HZ_CLEAN s), pinned (HZ_PINNED s) and recovery (HZ_RECOVERY s).  Prints,
# per HZ_WINDOW s window, jobs/s (messages archived) and the p95 of
# archived_at - enqueued_at, then the ratios pinned/clean (mean of the pinned
# windows, and the last pinned window alone).
#
# Loads (HZ_LOADS, default "readpath prodcons"):
#   readpath  pgbench, HZ_READ_CLIENTS (4) clients, each transaction sends 1,
#             reads 1 (vt 30) and archives it; the queue holds HZ_DEPTH (2000)
#   prodcons  a producer offering HZ_RATE (4000) messages/s in batches of 100
#             (pgbench -R), HZ_CONSUMERS (16) consumers each read(q, 30, 10)
#             and archive the ids in one transaction
# Pinning modes (HZ_MODES, default "idle rr"):
#   idle  one session holds an xid and sits idle in transaction
#   rr    4 REPEATABLE READ sessions run count(*) on the queue every 0.1 s
#         (their own index reads count in "index entries/job" when count(*)
#         uses an index-only scan)
#
# Needs PGHOST/PGPORT (PGUSER, PGDATABASE) of a cluster with pgmq installed
# (preloaded, or the start position is not used), and psql/pgbench on PATH.
# `make bench-horizon` runs it; `HZ_CLEAN=20 HZ_PINNED=60 HZ_RECOVERY=20
# HZ_WINDOW=10` is a short run.
set -euo pipefail

CLEAN="${HZ_CLEAN:-60}"
PINNED="${HZ_PINNED:-150}"
RECOVERY="${HZ_RECOVERY:-60}"
WINDOW="${HZ_WINDOW:-30}"
LOADS="${HZ_LOADS:-readpath prodcons}"
MODES="${HZ_MODES:-idle rr}"
READ_CLIENTS="${HZ_READ_CLIENTS:-4}"
DEPTH="${HZ_DEPTH:-2000}"
RATE="${HZ_RATE:-4000}"
CONSUMERS="${HZ_CONSUMERS:-16}"
QUEUE=hz_bench

: "${PGHOST:?PGHOST must be set}"
: "${PGPORT:?PGPORT must be set}"
export PGDATABASE="${PGDATABASE:-postgres}"
for tool in psql pgbench; do
    command -v "$tool" >/dev/null || { echo "horizon.sh: $tool not found on PATH" >&2; exit 1; }
done

WORK="$(mktemp -d /tmp/pgmq-horizon.XXXXXXXX)"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '==> %s\n' "$*" >&2; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

MSG='{"event":"order.created","order_id":123456,"amount":129.95}'
cat >"$WORK/readpath.sql" <<EOF
BEGIN;
SELECT pgmq.send('$QUEUE', '$MSG'::jsonb);
SELECT msg_id FROM pgmq.read('$QUEUE', 30, 1) \gset
SELECT pgmq.archive('$QUEUE', :msg_id::bigint);
END;
EOF
cat >"$WORK/producer.sql" <<EOF
SELECT pg_catalog.count(*) FROM pgmq.send_batch('$QUEUE', pg_catalog.array_fill('$MSG'::jsonb, ARRAY[100]));
EOF
cat >"$WORK/consumer.sql" <<EOF
SELECT pg_catalog.count(*) FROM pgmq.archive('$QUEUE',
       (SELECT COALESCE(pg_catalog.array_agg(msg_id), '{}') FROM pgmq.read('$QUEUE', 30, 10)));
EOF

setup_queue() {
    q >/dev/null <<EOF
SELECT pgmq.drop_queue('$QUEUE') FROM pgmq.list_queues() WHERE queue_name = '$QUEUE';
SELECT pgmq.create('$QUEUE');
SELECT pg_catalog.count(*) FROM pgmq.send_batch('$QUEUE',
       pg_catalog.array_fill('$MSG'::jsonb, ARRAY[$DEPTH]));
VACUUM ANALYZE pgmq.q_$QUEUE;
CHECKPOINT;
EOF
}

# CPU time (ms) used so far by the server's processes (live children of the
# postmaster, plus the children that exited, e.g. autovacuum workers), or
# nothing when the server is not on this machine.
POSTMASTER=""
bp="$(q -c "SELECT pid FROM pg_catalog.pg_stat_activity WHERE backend_type = 'checkpointer'")"
if [[ -n "$bp" && -r "/proc/$bp/stat" ]]; then POSTMASTER="$(awk '{ print $4 }' "/proc/$bp/stat")"; fi
TICK="$(getconf CLK_TCK)"
server_cpu_ms() {
    [[ -n "$POSTMASTER" ]] || return 0
    local p sum t
    sum="$(awk '{ print $16 + $17 }' "/proc/$POSTMASTER/stat" 2>/dev/null)" || return 0
    for p in $(pgrep -P "$POSTMASTER"); do
        t="$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null)" || continue
        sum=$((sum + ${t:-0}))
    done
    echo $((sum * 1000 / TICK))
}

# pin MODE SECONDS: hold the horizon back for SECONDS (in the background).
pin() {
    local mode="$1" secs="$2" i
    case "$mode" in
        idle)
            { echo "BEGIN; SELECT pg_catalog.txid_current();"; sleep "$secs"; echo "COMMIT;"; } |
                q >/dev/null &
            PIDS+=($!)
            ;;
        rr)
            # one transaction each, the loop inside the server so that the
            # reports stop on time however slow their count(*) gets
            for i in 1 2 3 4; do
                q >/dev/null <<EOF &
BEGIN ISOLATION LEVEL REPEATABLE READ;
DO \$\$
DECLARE
    stop timestamptz := pg_catalog.clock_timestamp() + interval '$secs seconds';
    n bigint;
BEGIN
    WHILE pg_catalog.clock_timestamp() < stop LOOP
        SELECT pg_catalog.count(*) INTO n FROM pgmq.q_$QUEUE;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
END
\$\$;
COMMIT;
EOF
                PIDS+=($!)
            done
            ;;
    esac
}

# run LOAD MODE: one clean / pinned / recovery run; prints its table.
run() {
    local load="$1" mode="$2" total=$((CLEAN + PINNED + RECOVERY)) start
    log "$load, pinned by $mode: ${CLEAN}s clean, ${PINNED}s pinned, ${RECOVERY}s recovery"
    setup_queue
    start="$(q -c "SELECT pg_catalog.now()")"
    case "$load" in
        readpath)
            pgbench -n -M prepared -c "$READ_CLIENTS" -j 2 -T "$total" -f "$WORK/readpath.sql" \
                >"$WORK/pgbench.log" 2>&1 &
            PIDS+=($!)
            ;;
        prodcons)
            pgbench -n -M prepared -c 1 -R "$((RATE / 100))" -T "$total" -f "$WORK/producer.sql" \
                >"$WORK/producer.log" 2>&1 &
            PIDS+=($!)
            pgbench -n -M prepared -c "$CONSUMERS" -j 2 -T "$total" -f "$WORK/consumer.sql" \
                >"$WORK/pgbench.log" 2>&1 &
            PIDS+=($!)
            ;;
    esac
    # every window: index entries the reads walked (pg_stat_user_indexes),
    # and the CPU time of all the server's processes when it runs here
    q -c "DROP TABLE IF EXISTS public.hz_samples; CREATE TABLE public.hz_samples (n int, tup_read bigint, cpu_ms float8)" >/dev/null
    (
        n=0
        while ((n * WINDOW <= total)); do
            q -c "INSERT INTO public.hz_samples SELECT $n, sum(idx_tup_read), NULLIF('$(server_cpu_ms)', '')::float8 FROM pg_catalog.pg_stat_user_indexes WHERE relid = 'pgmq.q_$QUEUE'::regclass" >/dev/null
            n=$((n + 1))
            sleep "$WINDOW"
        done
    ) &
    local sampler=$!
    sleep "$CLEAN"
    pin "$mode" "$PINNED"
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    sleep 2
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    PIDS=()
    if grep -q 'aborted' "$WORK/pgbench.log"; then
        cat "$WORK/pgbench.log" >&2
        echo "horizon.sh: a client aborted" >&2
        exit 1
    fi
    q -F ' | ' <<EOF
WITH w AS (
  SELECT pg_catalog.floor(extract(epoch FROM archived_at - '$start'::timestamptz) / $WINDOW)::int AS n,
         extract(epoch FROM archived_at - enqueued_at) AS lat
    FROM pgmq.a_$QUEUE WHERE archived_at >= '$start'::timestamptz
), t AS (
  SELECT n, (n + 1) * $WINDOW AS t_end,
         CASE WHEN (n + 1) * $WINDOW <= $CLEAN THEN 'clean'
              WHEN n * $WINDOW >= $CLEAN AND (n + 1) * $WINDOW <= $CLEAN + $PINNED THEN 'pinned'
              WHEN n * $WINDOW >= $CLEAN + $PINNED AND (n + 1) * $WINDOW <= $total THEN 'recovery'
              ELSE 'edge' END AS phase,
         pg_catalog.count(*)::float8 / $WINDOW AS jobs,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY lat) AS p95
    FROM w GROUP BY n
), c AS (SELECT avg(jobs) AS clean FROM t WHERE phase = 'clean')
SELECT '$load' AS load, '$mode' AS mode, phase, 't<=' || t_end || 's',
       round(jobs::numeric) || ' jobs/s', 'p95 ' || round(p95::numeric, 3) || ' s',
       round((jobs / NULLIF(c.clean, 0))::numeric, 2) || ' of clean',
       round(((s1.tup_read - s0.tup_read) / NULLIF(jobs * $WINDOW, 0))::numeric, 1)
         || ' index entries/job',
       round(((s1.cpu_ms - s0.cpu_ms) / NULLIF(jobs * $WINDOW, 0))::numeric, 3)
         || ' server CPU ms/job'
  FROM t CROSS JOIN c
  LEFT JOIN public.hz_samples s0 ON s0.n = t.n
  LEFT JOIN public.hz_samples s1 ON s1.n = t.n + 1
 WHERE phase <> 'edge' ORDER BY t.n;
WITH w AS (
  SELECT pg_catalog.floor(extract(epoch FROM archived_at - '$start'::timestamptz) / $WINDOW)::int AS n
    FROM pgmq.a_$QUEUE WHERE archived_at >= '$start'::timestamptz
), t AS (SELECT n, pg_catalog.count(*)::float8 / $WINDOW AS jobs FROM w GROUP BY n)
SELECT '$load' AS load, '$mode' AS mode, 'RATIO pinned/clean: mean ' ||
       round((avg(jobs) FILTER (WHERE n >= $CLEAN / $WINDOW AND (n + 1) * $WINDOW <= $CLEAN + $PINNED)
              / avg(jobs) FILTER (WHERE (n + 1) * $WINDOW <= $CLEAN))::numeric, 2) ||
       ', last pinned window ' ||
       round((max(jobs) FILTER (WHERE (n + 1) * $WINDOW = $CLEAN + $PINNED)
              / avg(jobs) FILTER (WHERE (n + 1) * $WINDOW <= $CLEAN))::numeric, 2)
  FROM t;
EOF
}

for load in $LOADS; do
    for mode in $MODES; do
        run "$load" "$mode"
    done
done
q -c "SELECT pgmq.drop_queue('$QUEUE'); DROP TABLE public.hz_samples" >/dev/null
