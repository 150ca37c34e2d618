#!/usr/bin/env python3
# examples/python/consumer.py owns the consumer half of the walkthrough (run alone, or by demo.py).
"""pgmq consumer: pop messages until five consecutive reads find the queue empty.

Each pgmq.pop() reads and deletes one message in one transaction. pop() skips
rows that another consumer has locked, so any number of consumers can run on
the same queue at once: they share the work and no message is handed to two
of them. With --record FILE the consumer writes one "msg_id<TAB>payload" line
per message it got.

Connection settings come from the usual libpq environment variables
(PGHOST, PGPORT, PGUSER, PGPASSWORD, ...); PGDATABASE defaults to "postgres".

    python3 examples/python/consumer.py --queue my_queue
"""

import argparse
import os
import sys
import time

import psycopg

EMPTY_READS_TO_STOP = 5     # consecutive empty pops before a consumer stops
EMPTY_READ_PAUSE = 0.05     # seconds to wait after an empty pop


def connect():
    """A connection in autocommit mode: every statement is its own transaction."""
    os.environ.setdefault("PGDATABASE", "postgres")
    return psycopg.connect(autocommit=True)


def consume(conn, queue, on_message, may_stop=None):
    """Pop one message at a time and call on_message(msg_id, message) for each.

    Stops after EMPTY_READS_TO_STOP consecutive empty pops. may_stop(), when
    given, is asked before each pop; an empty pop counts only if it said yes
    (demo.py uses this to keep consumers going while its producer is still
    running). Returns the number of messages consumed.
    """
    consumed = 0
    empty_reads = 0
    while True:
        # Ask before popping: an empty pop only counts if everything the
        # caller waits for was already committed when the pop started.
        counts = may_stop is None or may_stop()
        row = conn.execute(
            "SELECT msg_id, message FROM pgmq.pop(queue_name => %s)", (queue,)
        ).fetchone()
        if row is not None:
            empty_reads = 0
            consumed += 1
            on_message(row[0], row[1])
            continue
        if counts:
            empty_reads += 1
            if empty_reads >= EMPTY_READS_TO_STOP:
                return consumed
        time.sleep(EMPTY_READ_PAUSE)


def payload_of(message):
    """The "payload" field of a message sent by producer.py."""
    return message.get("payload") if isinstance(message, dict) else message


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queue", default="my_queue", help="queue name (default my_queue)")
    ap.add_argument("--record", metavar="FILE", help='write "msg_id<TAB>payload" per message consumed')
    args = ap.parse_args()

    record = open(args.record, "w") if args.record else None
    try:
        def on_message(msg_id, message):
            if record:
                record.write(f"{msg_id}\t{payload_of(message)}\n")

        with connect() as conn:
            start = time.monotonic()
            n = consume(conn, args.queue, on_message)
            elapsed = time.monotonic() - start
    finally:
        if record:
            record.close()
    # One write, so the lines of consumers run side by side do not interleave.
    sys.stdout.write(f"consumer {os.getpid()}: consumed {n} messages from {args.queue!r} in {elapsed:.2f} s\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
