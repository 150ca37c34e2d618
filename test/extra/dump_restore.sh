#!/usr/bin/env bash
# test/extra/dump_restore.sh: pg_dump -Fc of a database holding plain,
# unlogged and partitioned queues (messages visible, in flight and delayed,
# archives) restores into a fresh database with every queue, message and
# archive row intact, and the queues work at once: send continues after the
# old msg_ids, read/archive/delete work, list_queues and metrics are right,
# pg_partman still manages the partitioned ones, and the queue tables are
# still not extension members.
#
# Run by test/harness.sh with PGHOST/PGPORT/PGUSER set; needs createdb,
# dropdb, pg_dump, pg_restore and psql on PATH, and pg_partman installed.
set -euo pipefail

SRC="pgmq_dump_src_$$"
DST="pgmq_dump_dst_$$"
TABLES_ONLY="pgmq_dump_tables_$$"
NO_EXT="pgmq_dump_noext_$$"
WORK="$(mktemp -d)"
cleanup() {
    dropdb --if-exists "$SRC" >/dev/null 2>&1 || true
    dropdb --if-exists "$DST" >/dev/null 2>&1 || true
    dropdb --if-exists "$TABLES_ONLY" >/dev/null 2>&1 || true
    dropdb --if-exists "$NO_EXT" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "dump_restore: FAILED: $*" >&2; exit 1; }
q() { # db, then psql arguments
    local db="$1"
    shift
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# snapshot DB: every queue's rows, meta, metrics and partman state, as text.
SNAPSHOT_SQL=$(cat <<'SQL'
CREATE FUNCTION pg_temp.snap() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT queue_name::text AS n FROM pgmq.meta ORDER BY 1 LOOP
        RETURN QUERY EXECUTE format(
            'SELECT concat_ws(''|'', %L, ''q'', msg_id, read_ct, enqueued_at, last_read_at,'
            ' vt, message, headers) FROM pgmq.%I ORDER BY msg_id', r.n, 'q_' || r.n);
        RETURN QUERY EXECUTE format(
            'SELECT concat_ws(''|'', %L, ''a'', msg_id, read_ct, enqueued_at, last_read_at,'
            ' archived_at, vt, message, headers) FROM pgmq.%I ORDER BY msg_id', r.n, 'a_' || r.n);
    END LOOP;
    RETURN QUERY SELECT concat_ws('|', 'meta', queue_name, is_partitioned, is_unlogged, created_at)
                   FROM pgmq.list_queues();
    RETURN QUERY SELECT concat_ws('|', 'metrics', queue_name, queue_length, total_messages,
                                  queue_visible_length)
                   FROM pgmq.metrics_all();
    RETURN QUERY SELECT concat_ws('|', 'partman', parent_table, control, partition_interval,
                                  retention, retention_keep_table, template_table)
                   FROM partman.part_config ORDER BY parent_table;
    RETURN QUERY SELECT concat_ws('|', 'child', i.inhparent::regclass, i.inhrelid::regclass)
                   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent
                  WHERE c.relnamespace = 'pgmq'::regnamespace ORDER BY 1;
    RETURN QUERY SELECT concat_ws('|', 'index', indexrelid::regclass, pg_get_indexdef(indexrelid))
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                  WHERE c.relnamespace = 'pgmq'::regnamespace AND NOT c.relispartition
                    AND c.relname ~ '^[qa]_' ORDER BY 1;
END $$;
SELECT * FROM pg_temp.snap();
SQL
)
snapshot() { q "$1" -At -c "$SNAPSHOT_SQL" >"$2"; }

# 1. A database with queues of every kind, in every state.
createdb "$SRC"
q "$SRC" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE EXTENSION pgmq;
SELECT pgmq.create('plain');
SELECT pgmq.create_unlogged('fast');
SELECT pgmq.create_partitioned('parted', '10', '1000');
SELECT pgmq.create_partitioned('timed', '1 day', '30 days');
SELECT pgmq.create('conv');

SELECT count(*) FROM pgmq.send_batch('plain', ARRAY(SELECT jsonb_build_object('p', g) FROM generate_series(1, 20) g),
                                     ARRAY(SELECT jsonb_build_object('h', g) FROM generate_series(1, 20) g));
SELECT count(*) FROM pgmq.send_batch('plain', ARRAY['{"late": 1}', '{"late": 2}']::jsonb[], 3600);
SELECT count(*) FROM pgmq.read('plain', 3600, 5);          -- 1..5 in flight
SELECT count(*) FROM pgmq.archive('plain', ARRAY[6, 7, 8]::bigint[]);
SELECT count(*) FROM pgmq.delete('plain', ARRAY[9]::bigint[]);

SELECT count(*) FROM pgmq.send_batch('fast', ARRAY(SELECT jsonb_build_object('f', g) FROM generate_series(1, 10) g));
SELECT count(*) FROM pgmq.read('fast', 3600, 2);
SELECT pgmq.archive('fast', 3::bigint);

-- across partition boundaries, with maintenance in between
SELECT count(*) FROM pgmq.send_batch('parted', ARRAY(SELECT jsonb_build_object('n', g) FROM generate_series(1, 35) g));
SELECT partman.run_maintenance();
SELECT count(*) FROM pgmq.send_batch('parted', ARRAY(SELECT jsonb_build_object('n', g) FROM generate_series(36, 60) g));
SELECT count(*) FROM pgmq.read('parted', 3600, 15);         -- 1..15 in flight
SELECT count(*) FROM pgmq.archive('parted', ARRAY(SELECT generate_series(20, 45)::bigint));
SELECT count(*) FROM pgmq.pop('parted', 2);
SELECT partman.run_maintenance();   -- a_parted's children now reach past msg_id 60 too

SELECT count(*) FROM pgmq.send_batch('timed', ARRAY(SELECT jsonb_build_object('t', g) FROM generate_series(1, 6) g));
SELECT count(*) FROM pgmq.read('timed', 3600, 2);
SELECT count(*) FROM pgmq.archive('timed', ARRAY[3, 4]::bigint[]);

SELECT count(*) FROM pgmq.send_batch('conv', ARRAY(SELECT jsonb_build_object('c', g) FROM generate_series(1, 25) g));
SELECT count(*) FROM pgmq.archive('conv', ARRAY(SELECT generate_series(1, 12)::bigint));
SELECT pgmq.convert_archive_partitioned('conv', '10', '1000', 3);
SQL
snapshot "$SRC" "$WORK/src.txt"
[[ $(grep -c '^plain|q|' "$WORK/src.txt") -eq 18 ]] || fail "source snapshot looks wrong"

# 2. Dump, restore into a fresh database.
pg_dump -Fc -f "$WORK/db.dump" "$SRC"
createdb "$DST"
pg_restore --exit-on-error -d "$DST" "$WORK/db.dump" || fail "pg_restore reported errors"

# 3. Everything is as it was.
snapshot "$DST" "$WORK/dst.txt"
if ! diff -u "$WORK/src.txt" "$WORK/dst.txt"; then
    fail "the restored database differs from the original (diff above)"
fi
echo "dump_restore: $(wc -l <"$WORK/src.txt") snapshot lines identical after restore"

# 4. ... and usable at once (this changes $DST).
q "$DST" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN RAISE EXCEPTION 'check failed: %', what; END IF;
END $$;

-- new msg_ids continue after the old ones, on every kind of queue
SELECT pg_temp.check(pgmq.send('plain', '{"new": 1}') = 23, 'plain: next msg_id is 23');
SELECT pg_temp.check(pgmq.send('fast', '{"new": 1}') = 11, 'fast: next msg_id is 11');
SELECT pg_temp.check(pgmq.send('parted', '{"new": 1}') = 61, 'parted: next msg_id is 61');
SELECT pg_temp.check(pgmq.send('timed', '{"new": 1}') = 7, 'timed: next msg_id is 7');
SELECT pg_temp.check(pgmq.send('conv', '{"new": 1}') = 26, 'conv: next msg_id is 26');

-- reads take only visible messages: in-flight and delayed ones stay hidden
SELECT pg_temp.check((SELECT array_agg(msg_id ORDER BY msg_id) FROM pgmq.read('plain', 30, 100))
                     = ARRAY(SELECT g::bigint FROM generate_series(10, 20) g) || 23::bigint,
                     'plain: read returns 10..20 and 23');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.read('fast', 30, 100)) = 8, 'fast: 8 visible');
SELECT pg_temp.check((SELECT array_agg(msg_id ORDER BY msg_id) FROM pgmq.read('parted', 30, 100))
                     = ARRAY(SELECT g::bigint FROM generate_series(18, 19) g)
                       || ARRAY(SELECT g::bigint FROM generate_series(46, 61) g),
                     'parted: read returns 18, 19, 46..61');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.read('timed', 30, 100)) = 3, 'timed: 3 visible');

-- archive / delete / set_vt on restored messages (in flight ones included)
SELECT pg_temp.check(pgmq.archive('plain', 1::bigint), 'plain: archive an in-flight message');
SELECT pg_temp.check(pgmq.delete('parted', 5::bigint), 'parted: delete an in-flight message');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.archive('parted', ARRAY[1, 2, 61]::bigint[])) = 3,
                     'parted: archive across partitions');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.set_vt('timed', 1::bigint, 0)) = 1, 'timed: set_vt');
SELECT pg_temp.check(pgmq.archive('conv', 13::bigint), 'conv: archive into the converted archive');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.a_conv) = 13, 'conv: 13 archived rows');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.a_plain) = 4, 'plain: 4 archived rows');

SELECT pg_temp.check((SELECT array_agg(queue_name::text ORDER BY queue_name) FROM pgmq.list_queues())
                     = ARRAY['conv', 'fast', 'parted', 'plain', 'timed'], 'list_queues');
SELECT pg_temp.check((SELECT total_messages FROM pgmq.metrics('parted')) = 61, 'metrics total_messages');
SELECT pg_temp.check((SELECT queue_length FROM pgmq.metrics('plain')) = 18, 'metrics queue_length');

-- pg_partman still manages the partitioned tables
SELECT partman.run_maintenance();
SELECT pg_temp.check((SELECT count(*) FROM pgmq.send_batch('parted',
                          ARRAY(SELECT jsonb_build_object('m', g) FROM generate_series(1, 30) g))) = 30,
                     'parted: 30 more messages');
SELECT pg_temp.check((SELECT count(*) FROM pgmq.q_parted_default) = 0, 'parted: nothing in the default child');

-- queue tables are still not extension members
SELECT pg_temp.check(NOT EXISTS (
    SELECT 1 FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
     WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
       AND d.deptype = 'e' AND c.relname ~ '^[qa]_'), 'no queue table is an extension member');

-- dropping a restored partitioned queue clears its pg_partman configuration
SELECT pg_temp.check(pgmq.drop_queue('parted'), 'drop parted');
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM partman.part_config WHERE parent_table LIKE 'pgmq.%parted'),
                     'part_config rows of parted are gone');
SQL
echo "dump_restore: restored queues work"

# 5. A dump of a database whose pgmq extension was dropped holds the queue
#    tables but no extension and no pgmq.meta rows: after its restore,
#    CREATE EXTENSION pgmq finds every queue again.
createdb "$NO_EXT"
pg_restore --exit-on-error -d "$NO_EXT" "$WORK/db.dump" || fail "pg_restore (for step 5) reported errors"
q "$NO_EXT" -c 'DROP EXTENSION pgmq'
pg_dump -Fc -f "$WORK/tables.dump" "$NO_EXT"
createdb "$TABLES_ONLY"
pg_restore --exit-on-error -d "$TABLES_ONLY" "$WORK/tables.dump" || fail "pg_restore of the tables reported errors"
q "$TABLES_ONLY" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION pgmq'
snapshot "$TABLES_ONLY" "$WORK/tables.txt"
grep -E '^[a-z]+\|[qa]\||^metrics\|' "$WORK/src.txt" >"$WORK/src_rows.txt"
grep -E '^[a-z]+\|[qa]\||^metrics\|' "$WORK/tables.txt" >"$WORK/tables_rows.txt"
if ! diff -u "$WORK/src_rows.txt" "$WORK/tables_rows.txt"; then
    fail "queues found by CREATE EXTENSION differ from the original (diff above)"
fi
flags="$(q "$TABLES_ONLY" -At -c "SELECT string_agg(concat_ws(':', queue_name, is_partitioned, is_unlogged), ' ' ORDER BY queue_name) FROM pgmq.list_queues()")"
[[ "$flags" == "conv:f:f fast:f:t parted:t:f plain:f:f timed:t:f" ]] || fail "list_queues after CREATE EXTENSION: $flags"
next="$(q "$TABLES_ONLY" -At -c "SELECT pgmq.send('parted', '{\"x\": 1}')")"
[[ "$next" == 61 ]] || fail "parted: next msg_id after CREATE EXTENSION is $next, not 61"
echo "dump_restore: $(wc -l <"$WORK/src_rows.txt") rows found again by CREATE EXTENSION after restoring a database without the extension"
