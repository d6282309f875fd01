#!/usr/bin/python3
# Copyright (c) 2026, the queue authors
"""Load clients for the Citus test (test/t/021_citus.pl), checked as
test/t/QueueCheck.pm checks the other load tests.

    citus_client.py producer N --conninfo-file F --log L --stop S --tenants a,b,...
    citus_client.py consumer N --conninfo-file F --log L --stop S [--rollback 0.1]

The file F holds one connection string per line: the coordinator's first,
then one per worker.  The queues are named after the tenants, the key by
which the application distributes its table orders, so that a tenant's
orders and its queue are on the same node (queue.citus_distribute(colocate_with
=> 'orders')).

A producer connects to the coordinator and, in one transaction, inserts a
row into orders and sends a message to the tenant's queue; every fourth
transaction does so for two tenants (two rows, two sends, most often on two
workers: Citus commits them with two-phase commit).  A tenth of its
transactions roll back.  It writes 'S <key>' to its log for each message
only once COMMIT has returned.

A consumer N connects to worker ((N - 1) mod workers) directly and reads the
queues of that worker: in one transaction it reads up to 5 messages of a
queue, inserts a row into table processed (distributed by tenant too) and
acks each one; a tenth of its transactions roll back (--rollback).  It logs
'P <key>' once COMMIT has returned.  It stops once the stop file exists and
its worker's queues are empty.
"""
import argparse
import os
import random
import time

import psycopg


def conninfos(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def producer(args, log):
    conn = psycopg.connect(conninfos(args.conninfo_file)[0], autocommit=True,
                           application_name=f"producer{args.n}")
    tenants = args.tenants.split(",")
    rng = random.Random(args.n)
    seq = 0
    while not os.path.exists(args.stop):
        seq += 1
        count = 2 if seq % 4 == 0 else 1
        picked = rng.sample(tenants, count)
        keys = [f"P{args.n}-{seq}-{i}" for i in range(count)]
        rollback = rng.random() < args.rollback
        conn.execute("BEGIN")
        for tenant, key in zip(picked, keys):
            conn.execute("INSERT INTO orders (tenant, key) VALUES (%s, %s)", (tenant, key))
            conn.execute("SELECT queue.send(%s, %s::jsonb)",
                         (tenant, f'{{"key": "{key}", "tenant": "{tenant}"}}'))
        if rollback:
            conn.execute("ROLLBACK")
            continue
        conn.execute("COMMIT")
        for key in keys:
            log.write(f"S {key}\n")
        log.flush()


def consumer(args, log):
    infos = conninfos(args.conninfo_file)
    workers = infos[1:]
    conn = psycopg.connect(workers[(args.n - 1) % len(workers)], autocommit=True,
                           application_name=f"consumer{args.n}")
    queues = [r[0] for r in conn.execute(
        "SELECT queue_name FROM queue.queues ORDER BY queue_name").fetchall()]
    rng = random.Random(1000 + args.n)
    idle = 0
    while True:
        if not queues:
            return
        queue = queues[rng.randrange(len(queues))]
        rollback = rng.random() < args.rollback
        done = []
        conn.execute("BEGIN")
        rows = conn.execute(
            "SELECT id, body->>'key', body->>'tenant'"
            "  FROM queue.read(%s, 5, '30 seconds', wait => '100 milliseconds')",
            (queue,)).fetchall()
        for msg_id, key, tenant in rows:
            conn.execute("INSERT INTO processed (tenant, key, msg_id, consumer)"
                         " VALUES (%s, %s, %s, %s)", (tenant, key, msg_id, args.n))
            conn.execute("SELECT queue.ack(%s, %s::bigint)", (queue, msg_id))
            done.append(key)
        if rollback:
            conn.execute("ROLLBACK")
        else:
            conn.execute("COMMIT")
            for key in done:
                log.write(f"P {key}\n")
            log.flush()
        idle = 0 if rows else idle + 1
        if os.path.exists(args.stop) and idle >= len(queues):
            left = conn.execute(
                "SELECT coalesce(sum(ready + in_flight + delayed), 0)"
                "  FROM queue.stats(NULL, exact => true)").fetchone()[0]
            if left == 0:
                return
            idle = 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["producer", "consumer"])
    p.add_argument("n", type=int)
    p.add_argument("--conninfo-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--rollback", type=float, default=0.1)
    p.add_argument("--tenants", default="")
    args = p.parse_args()
    with open(args.log, "a") as log:
        if args.role == "producer":
            producer(args, log)
        else:
            consumer(args, log)


if __name__ == "__main__":
    main()
