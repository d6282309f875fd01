#!/usr/bin/python3
# Copyright (c) 2026, the queue authors
"""examples/python/worker.py -- a worker loop: long-poll for a message,
do the work (extending the lease while it takes long), then write the
effect and ack in one transaction, or nack with the reason on failure.
SIGTERM (or Ctrl-C) stops it cleanly after the message in hand, at the
latest WAIT seconds after the signal.

    PGHOST=... PGDATABASE=... ./worker.py

Settings from the environment: the libpq ones (PGHOST, PGDATABASE, ...),
QUEUE (orders), VISIBILITY (seconds a message stays hidden, 30), WAIT
(seconds of a long poll, 5), WORKER_NAME. Needs psycopg 3 (Debian:
python3-psycopg).
"""
import os
import signal
import time
from datetime import timedelta

import psycopg

QUEUE = os.environ.get("QUEUE", "orders")
VISIBILITY = timedelta(seconds=float(os.environ.get("VISIBILITY", "30")))
WAIT = timedelta(seconds=float(os.environ.get("WAIT", "5")))
NAME = os.environ.get("WORKER_NAME", f"python-{os.getpid()}")

stopping = False


def stop(signum, frame):
    global stopping
    stopping = True


class LeaseLost(Exception):
    """The visibility timeout ran out and someone else has the message."""


def ship(body, heartbeat):
    """The work itself. Here it takes body["work_seconds"], calling
    heartbeat() as it goes, and fails when body["fail"] is set."""
    if body.get("fail"):
        raise RuntimeError("carrier API down")
    deadline = time.monotonic() + body.get("work_seconds", 0)
    while time.monotonic() < deadline:
        time.sleep(0.05)
        heartbeat()


def handle(conn, msg_id, body, receipt):
    """Work on one message that this worker holds."""
    last_extend = time.monotonic()

    def heartbeat():
        # Every third of the visibility timeout, hide the message for
        # another full timeout. The receipt makes it fail (NULL) if the
        # lease was lost meanwhile.
        nonlocal last_extend
        if time.monotonic() - last_extend < VISIBILITY.total_seconds() / 3:
            return
        (until,) = conn.execute("SELECT queue.extend(%s, %s, %s, receipt => %s)",
                                (QUEUE, msg_id, VISIBILITY, receipt)).fetchone()
        if until is None:
            raise LeaseLost()
        last_extend = time.monotonic()

    try:
        ship(body, heartbeat)
        # The effect and the ack commit together, or not at all.
        with conn.transaction():
            conn.execute("INSERT INTO shipments (order_id, worker) VALUES (%s, %s)",
                         (body["order_id"], NAME))
            (acked,) = conn.execute("SELECT queue.ack(%s, %s, %s)",
                                    (QUEUE, msg_id, receipt)).fetchone()
            if not acked:
                raise LeaseLost()  # rolls the effect back
        print(f"acked {msg_id}", flush=True)
    except LeaseLost:
        print(f"lost {msg_id}", flush=True)
    except Exception as e:
        # Back to the queue after its backoff, or to the dead letters
        # after max_deliveries, with the reason.
        conn.execute("SELECT queue.nack(%s, %s, reason => %s, receipt => %s)",
                     (QUEUE, msg_id, str(e), receipt))
        print(f"nacked {msg_id}: {e}", flush=True)


def main():
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # autocommit: the read commits at once, so the message stays ours for
    # the visibility timeout while we work outside any transaction.
    with psycopg.connect(autocommit=True) as conn:
        print(f"{NAME} ready", flush=True)
        while not stopping:
            row = conn.execute(
                "SELECT id, body, delivery_count"
                "  FROM queue.read(%s, 1, %s, wait => %s)",
                (QUEUE, VISIBILITY, WAIT)).fetchone()
            if row is None:
                continue  # nothing for WAIT: poll again
            msg_id, body, receipt = row
            print(f"took {msg_id} (delivery {receipt})", flush=True)
            handle(conn, msg_id, body, receipt)
    print(f"{NAME} stopped", flush=True)


if __name__ == "__main__":
    main()
