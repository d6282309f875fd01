# Copyright (c) 2026, the queue authors
"""Tests of the Python examples against a PostgreSQL server with the queue
extension preloaded (test/run-all.sh runs them on its throwaway cluster;
by hand: test/cluster.sh /usr/bin/python3 -m pytest examples/python).

Each test gets a database of its own with examples/app.sql loaded, and runs
producer.py and worker.py as a user would, as processes."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

HERE = Path(__file__).resolve().parent
APP_SQL = (HERE.parent / "app.sql").read_text()


@pytest.fixture
def db():
    """A fresh database with the extension and the app's tables; yields its
    name, drops it afterwards."""
    name = "ex_py_" + uuid.uuid4().hex[:10]
    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dbname=name, autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute("CREATE EXTENSION queue")
            conn.execute(APP_SQL)
        yield name
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(db, sql, params=None):
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def produce(db, customer, item, extra="{}"):
    out = subprocess.run([sys.executable, HERE / "producer.py", customer, item, extra],
                         env={**os.environ, "PGDATABASE": db}, check=True,
                         capture_output=True, text=True, timeout=30)
    return int(out.stdout.strip())


class Worker:
    """worker.py as a process; lines() is what it printed so far."""

    def __init__(self, db, name, **settings):
        env = {**os.environ, "PGDATABASE": db, "WORKER_NAME": name, "WAIT": "1",
               **{k: str(v) for k, v in settings.items()}}
        self.out = []
        self.proc = subprocess.Popen([sys.executable, "-u", HERE / "worker.py"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.wait_for(f"{name} ready")

    def lines(self):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return self.out
            self.out.append(line.rstrip("\n"))

    def wait_for(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines()):
                return
            if self.proc.poll() is not None:
                self.lines()
                break
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} within {timeout} s: {self.out}")

    def terminate(self, sig=signal.SIGTERM, timeout=15):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        self.lines()
        return rc


def wait_until(check, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"not true within {timeout} s")


def stats(db):
    return query(db, "SELECT ready, in_flight, delayed, dead FROM queue.stats('orders', exact => true)")[0]


def test_producer_writes_the_row_and_the_message_together(db):
    order_id = produce(db, "alice", "book")
    assert query(db, "SELECT customer, item FROM orders WHERE id = %s", (order_id,)) == [("alice", "book")]
    assert query(db, "SELECT body FROM queue.read('orders', 10)") == [({"order_id": order_id},)]
    # a send that fails takes the order with it
    with psycopg.connect(dbname=db, autocommit=True) as conn:
        conn.execute("SELECT queue.drop('orders')")
    with pytest.raises(subprocess.CalledProcessError):
        produce(db, "bob", "pen")
    assert query(db, "SELECT count(*) FROM orders") == [(1,)]


def test_workers_ship_every_order_once(db):
    orders = [produce(db, f"customer-{i}", "book") for i in range(20)]
    workers = [Worker(db, "w1"), Worker(db, "w2")]
    wait_until(lambda: query(db, "SELECT count(*) FROM shipments")[0][0] >= 20)
    for w in workers:
        assert w.terminate() == 0
        assert f"{w.out[0].split()[0]} stopped" in w.out
    assert query(db, "SELECT order_id, count(*) FROM shipments GROUP BY 1 ORDER BY 1") == \
        [(o, 1) for o in orders]
    assert stats(db) == (0, 0, 0, 0)


def test_failure_is_nacked_with_its_reason_then_dead_lettered(db):
    query(db, "SELECT queue.alter('orders', max_deliveries => 2, retry_delay => '0.2 seconds')")
    bad = produce(db, "carol", "vase", '{"fail": true}')
    good = produce(db, "dave", "lamp")
    w = Worker(db, "w1")
    wait_until(lambda: stats(db)[3] == 1)
    wait_until(lambda: query(db, "SELECT count(*) FROM shipments")[0][0] == 1)
    assert w.terminate() == 0
    assert query(db, "SELECT (body->>'order_id')::bigint, delivery_count, reason"
                     "  FROM queue.dead_letters('orders')") == [(bad, 2, "carrier API down")]
    assert query(db, "SELECT order_id FROM shipments") == [(good,)]
    assert sum("nacked" in line for line in w.out) == 2


def test_long_work_extends_its_lease(db):
    # 3 s of work with a 1 s visibility timeout: without extend the second
    # worker would take the message too
    order_id = produce(db, "erin", "piano", '{"work_seconds": 3}')
    w1 = Worker(db, "w1", VISIBILITY=1)
    w1.wait_for("took")
    w2 = Worker(db, "w2", VISIBILITY=1)
    w1.wait_for("acked", timeout=20)
    assert w1.terminate() == 0 and w2.terminate() == 0
    assert query(db, "SELECT order_id, worker FROM shipments") == [(order_id, "w1")]
    assert not any("took" in line for line in w2.out)


def test_sigterm_stops_an_idle_worker(db):
    w = Worker(db, "w1")
    started = time.monotonic()
    assert w.terminate() == 0
    assert time.monotonic() - started < 5
    assert w.out[-1] == "w1 stopped"


def test_a_killed_worker_loses_nothing(db):
    # w1 dies (SIGKILL) in the middle of the work: its lease runs out after
    # the visibility timeout and w2 ships the order, once
    order_id = produce(db, "frank", "sofa", '{"work_seconds": 2}')
    w1 = Worker(db, "w1", VISIBILITY=2)
    w1.wait_for("took")
    w1.terminate(signal.SIGKILL)
    killed = time.monotonic()
    assert stats(db)[1] == 1  # still in flight, nobody has it
    w2 = Worker(db, "w2", VISIBILITY=2)
    w2.wait_for("took", timeout=20)
    assert time.monotonic() - killed > 1  # not before the timeout ran out
    w2.wait_for("acked", timeout=20)
    assert w2.terminate() == 0
    assert query(db, "SELECT order_id, worker FROM shipments") == [(order_id, "w2")]
    assert any("(delivery 2)" in line for line in w2.out)
    assert stats(db) == (0, 0, 0, 0)
