#!/usr/bin/env bash
# test/extra/python_walkthrough.sh owns the check of the walkthrough scripts as
# a reader runs them: examples/python/producer.py sends N messages, then five
# examples/python/consumer.py processes pop until five consecutive empty reads;
# every message must have been consumed exactly once, with the payload sent.
# Uses PGHOST/PGPORT/PGUSER/PGDATABASE (set by test/harness.sh) and $PYTHON
# (a Python with psycopg 3; default /usr/bin/python3). Exit non-zero = failure.
set -euo pipefail

examples="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/python" && pwd)"
py="${PYTHON:-/usr/bin/python3}"
queue=walkthrough_check
messages=2000
consumers=5
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

psql_c() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -tA -c "$1"; }
fail() { echo "python_walkthrough: FAIL: $*" >&2; exit 1; }

psql_c "CREATE EXTENSION IF NOT EXISTS pgmq" >/dev/null
psql_c "SELECT pgmq.drop_queue('$queue')" >/dev/null 2>&1   # a clean start

"$py" "$examples/producer.py" --queue "$queue" --messages "$messages" --record "$tmp/sent.tsv"

pids=()
for i in $(seq 1 "$consumers"); do
    "$py" "$examples/consumer.py" --queue "$queue" --record "$tmp/consumed$i.tsv" &
    pids+=("$!")
done
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
[[ "$rc" -eq 0 ]] || fail "a consumer exited with status $rc"

sent=$(wc -l <"$tmp/sent.tsv")
consumed=$(cat "$tmp"/consumed*.tsv | wc -l)
dups=$(cat "$tmp"/consumed*.tsv | cut -f1 | sort | uniq -d | wc -l)
echo "sent $sent, consumed $consumed (per consumer: $(wc -l "$tmp"/consumed*.tsv | head -n -1 | awk '{print $1}' | paste -sd' ')), duplicate ids $dups"
[[ "$sent" -eq "$messages" ]] || fail "producer recorded $sent messages, expected $messages"
[[ "$dups" -eq 0 ]] || fail "$dups message ids were consumed more than once"
# Same (msg_id, payload) multiset on both sides: nothing lost, nothing extra, payloads intact.
sort "$tmp/sent.tsv" >"$tmp/sent.sorted"
cat "$tmp"/consumed*.tsv | sort >"$tmp/consumed.sorted"
if ! cmp -s "$tmp/sent.sorted" "$tmp/consumed.sorted"; then
    diff "$tmp/sent.sorted" "$tmp/consumed.sorted" | head -20
    fail "consumed messages differ from the messages sent"
fi
left=$(psql_c "SELECT queue_length FROM pgmq.metrics('$queue')")
[[ "$left" -eq 0 ]] || fail "$left messages left in the queue"
psql_c "SELECT pgmq.drop_queue('$queue')" >/dev/null
echo "OK: $messages messages, each consumed exactly once by one of $consumers consumers"
