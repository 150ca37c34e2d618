#!/usr/bin/env python3
# examples/python/demo.py owns the producer/consumer walkthrough (`make demo`, and the "walkthrough" suite of `make test`).
"""pgmq walkthrough: one producer, several competing consumers, nothing lost.

One producer process sends N small JSON messages, {"payload": "<10 random
letters>"}, with pgmq.send(), one message per transaction.  At the same time
C consumer processes each loop on pgmq.pop(), which reads and deletes one
message.  Because pop() skips rows another consumer has locked, the consumers
share the work without blocking each other and without ever receiving the
same message twice.  The sending and popping are producer.py's produce()
and consumer.py's consume() (the scripts docs/clients.md runs by hand); this
script runs them in parallel processes and checks the outcome.

At the end the script checks every message: it must have been consumed
exactly once (no duplicates, none lost) with the payload that was sent, and
prints throughput for the producer and for the consumers together.  The exit
status is 1 if any check fails.

Connection settings come from the usual libpq environment variables
(PGHOST, PGPORT, PGUSER, PGPASSWORD, ...); PGDATABASE defaults to "postgres".

    python3 examples/python/demo.py --messages 100000 --consumers 5
"""

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import wait

from consumer import consume, payload_of
from producer import connect, produce, setup


# --------------------------------------------------------------------------- producer
def producer(queue, n, outfile, sent_counter, done):
    """Run producer.produce(); write "msg_id<TAB>payload" lines to outfile."""
    try:
        with connect() as conn, open(outfile, "w") as out:
            def on_sent(msg_id, payload):
                out.write(f"{msg_id}\t{payload}\n")
                with sent_counter.get_lock():
                    sent_counter.value += 1

            start = time.monotonic()
            produce(conn, queue, n, on_sent)
            out.write(f"#elapsed\t{time.monotonic() - start}\n")
    finally:
        # Set even on failure so the consumers do not wait forever.
        done.set()


# --------------------------------------------------------------------------- consumers
def consumer(queue, outfile, consumed_counter, done):
    """Run consumer.consume() until the producer is done and the queue stays empty.

    Writes "msg_id<TAB>payload" lines, then "#times<TAB>start<TAB>last_pop".
    """
    with connect() as conn, open(outfile, "w") as out:
        start = time.monotonic()
        last_pop = None

        def on_message(msg_id, message):
            nonlocal last_pop
            last_pop = time.monotonic()
            out.write(f"{msg_id}\t{payload_of(message)}\n")
            with consumed_counter.get_lock():
                consumed_counter.value += 1

        # Empty pops only count once the producer's last commit is visible.
        consume(conn, queue, on_message, may_stop=done.is_set)
        out.write(f"#times\t{start}\t{last_pop if last_pop is not None else ''}\n")


# --------------------------------------------------------------------------- main
def read_records(path):
    """Return ([(msg_id, payload)], {meta-key: [values]}) from a worker's output file."""
    records, meta = [], {}
    if not os.path.exists(path):
        return records, meta
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0].startswith("#"):
                meta[parts[0][1:]] = parts[1:]
            elif len(parts) == 2 and parts[0].isdigit():   # skip a line cut short by a killed worker
                records.append((int(parts[0]), parts[1]))
    return records, meta


def rate(count, seconds):
    return f"{count / seconds:,.0f} msg/s" if seconds and seconds > 0 else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=10000, help="messages to send (default 10000)")
    ap.add_argument("--consumers", type=int, default=5, help="consumer processes (default 5)")
    ap.add_argument("--queue", default="demo_queue", help="queue name (default demo_queue)")
    ap.add_argument("--timeout", type=float, default=1800,
                    help="give up (and fail) after this many seconds (default 1800)")
    args = ap.parse_args()
    if args.messages < 0 or args.consumers < 1:
        ap.error("--messages must be >= 0 and --consumers >= 1")

    with connect() as conn:
        setup(conn, args.queue)
        conn.execute("SELECT pgmq.purge_queue(%s)", (args.queue,))
    print(f"queue {args.queue!r} ready; sending {args.messages} messages "
          f"to {args.consumers} consumers", flush=True)

    sent_counter = mp.Value("q", 0)
    consumed_counter = mp.Value("q", 0)
    done = mp.Event()
    failed_workers = []
    timed_out = False

    with tempfile.TemporaryDirectory(prefix="pgmq-demo-") as tmp:
        prod_file = os.path.join(tmp, "producer.tsv")
        cons_files = [os.path.join(tmp, f"consumer{i}.tsv") for i in range(args.consumers)]
        procs = [mp.Process(target=producer, name="producer",
                            args=(args.queue, args.messages, prod_file, sent_counter, done))]
        procs += [mp.Process(target=consumer, name=f"consumer{i}",
                             args=(args.queue, f, consumed_counter, done))
                  for i, f in enumerate(cons_files)]
        t0 = time.monotonic()
        for p in procs:
            p.start()

        # Progress about once a second until every worker has finished.
        def progress():
            print(f"[{time.monotonic() - t0:6.1f}s] sent {sent_counter.value:>8}/{args.messages}"
                  f"   consumed {consumed_counter.value:>8}", flush=True)

        next_print = t0 + 1.0
        while True:
            alive = [p for p in procs if p.is_alive()]
            if not alive:
                break
            wait([p.sentinel for p in alive], timeout=max(0.0, next_print - time.monotonic()))
            if time.monotonic() >= next_print:
                progress()
                next_print += 1.0
                if time.monotonic() - t0 > args.timeout:
                    timed_out = True
                    print(f"timeout after {args.timeout:.0f}s, stopping workers", file=sys.stderr)
                    for p in procs:
                        if p.is_alive():
                            p.terminate()
                    for p in procs:
                        p.join()
                    break
        for p in procs:
            p.join()
        progress()
        for p in procs:
            if p.exitcode != 0:
                failed_workers.append(f"{p.name} (exit code {p.exitcode})")

        sent, prod_meta = read_records(prod_file)
        consumed = []
        cons_starts, cons_lasts, per_consumer = [], [], []
        for f in cons_files:
            recs, meta = read_records(f)
            consumed += recs
            per_consumer.append(len(recs))
            if "times" in meta:
                cons_starts.append(float(meta["times"][0]))
                if meta["times"][1]:
                    cons_lasts.append(float(meta["times"][1]))

    with connect() as conn:
        conn.execute("SELECT pgmq.drop_queue(%s)", (args.queue,))

    # ----------------------------------------------------------------- checks
    sent_payload = dict(sent)
    sent_dups = len(sent) - len(sent_payload)           # send() returned an id twice
    counts = Counter(msg_id for msg_id, _ in consumed)
    duplicates = sum(1 for c in counts.values() if c > 1)
    lost = sum(1 for msg_id in sent_payload if msg_id not in counts)
    unexpected = sum(1 for msg_id in counts if msg_id not in sent_payload)
    mismatches = sum(1 for msg_id, payload in consumed
                     if msg_id in sent_payload and sent_payload[msg_id] != payload)

    prod_secs = float(prod_meta["elapsed"][0]) if "elapsed" in prod_meta else None
    cons_secs = (max(cons_lasts) - min(cons_starts)) if cons_lasts and cons_starts else None

    print()
    print(f"messages sent:           {len(sent)} (expected {args.messages})")
    print(f"messages consumed:       {len(consumed)}  "
          f"(per consumer: {', '.join(str(c) for c in per_consumer)})")
    print(f"duplicates:              {duplicates}")
    print(f"lost:                    {lost}")
    print(f"payload mismatches:      {mismatches}")
    if unexpected:
        print(f"unexpected msg_ids:      {unexpected} (consumed but never sent)")
    if sent_dups:
        print(f"duplicate ids from send: {sent_dups}")
    print(f"producer throughput:     {rate(len(sent), prod_secs)}")
    print(f"consumer throughput:     {rate(len(consumed), cons_secs)} "
          f"({args.consumers} consumers combined)")

    problems = []
    if len(sent) != args.messages:
        problems.append(f"sent {len(sent)} messages, expected {args.messages}")
    for label, value in (("duplicates", duplicates), ("lost", lost),
                         ("payload mismatches", mismatches),
                         ("unexpected msg_ids", unexpected),
                         ("duplicate ids from send", sent_dups)):
        if value:
            problems.append(f"{label}: {value}")
    if failed_workers:
        problems.append("worker(s) failed: " + ", ".join(failed_workers))
    if timed_out:
        problems.append("timed out")
    if problems:
        print("FAIL: " + "; ".join(problems))
        return 1
    print("OK: every message was consumed exactly once with the payload that was sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
