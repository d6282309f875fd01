#!/usr/bin/python3
# Copyright (c) 2026, the queue authors
"""Load clients for the fault tests (test/t/014_crash_load.pl,
test/t/015_failover.pl), checked by test/t/QueueCheck.pm.

    client.py producer N --conninfo-file F --log L --stop S
    client.py consumer N --conninfo-file F --log L --stop S [--rollback 0.1]

The connection string is read from the file F at every (re)connect, so a
test can point the clients at a promoted standby.  Every client runs until
the file S exists (a consumer: until S exists and the queues are empty),
reconnecting whenever the server goes away.

A producer sends, in one transaction with a business row (table orders):
to queue 'plain' (a tenth of them with a 1 s delay) and to queue 'ordered'
(group keys g0..g7), each message with idempotency key P<n>-<seq>.  It
writes 'S <key>' to its log only once COMMIT has returned; when the
outcome of a COMMIT is unknown (the connection broke, or a synchronous
commit's wait was cancelled) it sends the same key again, which the
idempotency key turns into a no-op if the first one committed.

A consumer reads up to 5 messages (waiting up to 200 ms), and for each
one inserts a row into table processed and acks it, all in one
transaction; a tenth of its transactions roll back instead (--rollback).
The table processed is the record of what was processed: its rows commit
with the acks or not at all.

With --poison F (bench/soak), a producer marks that fraction of its
messages as poison, and a consumer fails on each of them: it nacks it with
a reason (retried after a short delay), so that after max_deliveries the
message goes to the dead letters.
"""
import argparse
import os
import random
import signal
import sys
import time

import psycopg

stopping = False
# set by a "canceling wait for synchronous replication" warning: the COMMIT
# returned, but the transaction may not be on the standby
commit_unsure = False


def on_term(signum, frame):
    global stopping
    stopping = True


def on_notice(diag):
    global commit_unsure
    if "synchronous replication" in (diag.message_primary or ""):
        commit_unsure = True


def connect(args):
    """Connect, retrying while the server is away (up to 120 s)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with open(args.conninfo_file) as f:
                conninfo = f.read().strip()
            conn = psycopg.connect(conninfo, connect_timeout=5, autocommit=True,
                                   application_name=f"{args.role}{args.n}")
            conn.add_notice_handler(on_notice)
            return conn
        except (psycopg.Error, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def body(key, seq, poison):
    if poison:
        return f'{{"key": "{key}", "seq": {seq}, "poison": true}}'
    return f'{{"key": "{key}", "seq": {seq}}}'


def producer(args, log):
    global commit_unsure
    seq = 0
    conn = None
    rng = random.Random(args.n)
    while not stopping and not os.path.exists(args.stop):
        seq += 1
        key = f"P{args.n}-{seq}"
        ordered = seq % 3 == 0
        queue = "ordered" if ordered else "plain"
        group = f"g{seq % 8}" if ordered else None
        delay = "1 second" if (not ordered and rng.random() < 0.1) else None
        while True:
            try:
                if conn is None or conn.closed:
                    conn = connect(args)
                commit_unsure = False
                with conn.transaction():
                    conn.execute("INSERT INTO orders (key) VALUES (%s)", (key,))
                    conn.execute(
                        "SELECT queue.send(%s, %s::jsonb, delay => %s::interval,"
                        " idempotency_key => %s, group_key => %s)",
                        (queue, body(key, seq, rng.random() < args.poison), delay, key,
                         group))
                if commit_unsure:
                    continue        # committed here, maybe not on the standby
                log.write(f"S {key} {queue}\n")
                log.flush()
                break
            except psycopg.Error:
                # outcome unknown: send the same key again
                try:
                    conn.close()
                except Exception:
                    pass
                conn = None
                if stopping or os.path.exists(args.stop):
                    return
                time.sleep(0.1)


def queues_empty(conn):
    row = conn.execute(
        "SELECT (SELECT count(*) FROM queue.q_plain) + (SELECT count(*) FROM queue.q_ordered)"
    ).fetchone()
    return row[0] == 0


def consumer(args, log):
    global commit_unsure
    conn = None
    rng = random.Random(1000 + args.n)
    queues = ["plain", "ordered"]
    idle = 0
    while not stopping:
        try:
            if conn is None or conn.closed:
                conn = connect(args)
            queue = queues[rng.randrange(2)]
            rollback = rng.random() < args.rollback
            done = []
            conn.execute("BEGIN")
            rows = conn.execute(
                "SELECT id, body->>'key', group_key, body ? 'poison'"
                "  FROM queue.read(%s, 5, '5 seconds', wait => '200 milliseconds')",
                (queue,)).fetchall()
            for msg_id, key, group, poison in rows:
                if poison:
                    conn.execute("SELECT queue.nack(%s, %s::bigint, '100 milliseconds',"
                                 " reason => 'poison')", (queue, msg_id))
                    continue
                conn.execute(
                    "INSERT INTO processed (key, queue, msg_id, group_key, consumer)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (key, queue, msg_id, group, args.n))
                conn.execute("SELECT queue.ack(%s, %s::bigint)", (queue, msg_id))
                done.append(key)
            if rollback:
                conn.execute("ROLLBACK")
            else:
                commit_unsure = False
                conn.execute("COMMIT")
                if not commit_unsure:
                    for key in done:
                        log.write(f"P {key}\n")
                    log.flush()
            if rows:
                idle = 0
            else:
                idle += 1
                if os.path.exists(args.stop) and idle >= 3 and queues_empty(conn):
                    return
        except psycopg.Error:
            try:
                conn.close()
            except Exception:
                pass
            conn = None
            time.sleep(0.1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["producer", "consumer"])
    p.add_argument("n", type=int)
    p.add_argument("--conninfo-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--rollback", type=float, default=0.1)
    p.add_argument("--poison", type=float, default=0.0)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    with open(args.log, "a") as log:
        if args.role == "producer":
            producer(args, log)
        else:
            consumer(args, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
