#!/usr/bin/python3
# Copyright (c) 2026, the queue authors
"""examples/python/producer.py -- write a business row and send its message
in one transaction: both commit, or neither does.

    PGHOST=... PGDATABASE=... ./producer.py CUSTOMER ITEM ['{"extra": "json"}']

Connection settings come from the libpq environment (PGHOST, PGPORT,
PGDATABASE, PGUSER, ...). Needs psycopg 3 (Debian: python3-psycopg).
"""
import json
import sys

import psycopg
from psycopg.types.json import Jsonb

QUEUE = "orders"


def place_order(conn, customer, item, **extra):
    """Insert an order and send {"order_id": id, ...extra} to the queue."""
    with conn.transaction():
        (order_id,) = conn.execute(
            "INSERT INTO orders (customer, item) VALUES (%s, %s) RETURNING id",
            (customer, item)).fetchone()
        conn.execute("SELECT queue.send(%s, %s)",
                     (QUEUE, Jsonb({"order_id": order_id, **extra})))
    return order_id


if __name__ == "__main__":
    extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    with psycopg.connect(autocommit=True) as conn:
        print(place_order(conn, sys.argv[1], sys.argv[2], **extra))
