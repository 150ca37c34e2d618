#!/usr/bin/env python3
# examples/python/producer.py owns the producer half of the walkthrough (run alone, or by demo.py).
"""pgmq producer: send N messages {"payload": "<10 random letters>"} to a queue.

Creates the extension and the queue if they do not exist, then sends the
messages one pgmq.send() call (one transaction) each, and prints how long it
took. With --record FILE it also writes one "msg_id<TAB>payload" line per
message, so a run can be checked against what the consumers got.

Connection settings come from the usual libpq environment variables
(PGHOST, PGPORT, PGUSER, PGPASSWORD, ...); PGDATABASE defaults to "postgres".

    python3 examples/python/producer.py --queue my_queue --messages 10000
"""

import argparse
import json
import os
import random
import string
import sys
import time

import psycopg


def connect():
    """A connection in autocommit mode: every statement is its own transaction."""
    os.environ.setdefault("PGDATABASE", "postgres")
    return psycopg.connect(autocommit=True)


def random_payload():
    return "".join(random.choices(string.ascii_letters, k=10))


def setup(conn, queue):
    """Create the extension and the queue; both calls are no-ops when they exist."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS pgmq")
    conn.execute("SELECT pgmq.create(queue_name => %s)", (queue,))


def produce(conn, queue, n, on_sent=None):
    """Send n messages, one per transaction; call on_sent(msg_id, payload) for each."""
    for _ in range(n):
        payload = random_payload()
        (msg_id,) = conn.execute(
            "SELECT * FROM pgmq.send(queue_name => %s, msg => %s::jsonb)",
            (queue, json.dumps({"payload": payload})),
        ).fetchone()
        if on_sent is not None:
            on_sent(msg_id, payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queue", default="my_queue", help="queue name (default my_queue)")
    ap.add_argument("--messages", type=int, default=1000, help="messages to send (default 1000)")
    ap.add_argument("--record", metavar="FILE", help='write "msg_id<TAB>payload" per message sent')
    args = ap.parse_args()
    if args.messages < 0:
        ap.error("--messages must be >= 0")

    record = open(args.record, "w") if args.record else None
    try:
        with connect() as conn:
            setup(conn, args.queue)
            on_sent = (lambda msg_id, payload: record.write(f"{msg_id}\t{payload}\n")) if record else None
            start = time.monotonic()
            produce(conn, args.queue, args.messages, on_sent)
            elapsed = time.monotonic() - start
    finally:
        if record:
            record.close()
    rate = f"{args.messages / elapsed:,.0f} msg/s" if elapsed > 0 else "n/a"
    print(f"producer: sent {args.messages} messages to {args.queue!r} in {elapsed:.2f} s ({rate})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
