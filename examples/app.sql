-- examples/app.sql -- the application tables and the queue that the Python
-- and Node examples use: an order is a row of orders, its shipment a row of
-- shipments, and the queue orders carries one message per order from the
-- producer to the workers.
--
--     psql -X -v ON_ERROR_STOP=1 -f examples/app.sql   (after CREATE EXTENSION queue)
--
-- Copyright (c) 2026, the queue authors

CREATE TABLE orders (
    id         bigserial PRIMARY KEY,
    customer   text NOT NULL,
    item       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- the workers' effect: one row per order shipped (no unique key, so that a
-- test can see a duplicate if there ever was one)
CREATE TABLE shipments (
    order_id   bigint NOT NULL REFERENCES orders,
    worker     text NOT NULL,
    shipped_at timestamptz NOT NULL DEFAULT now()
);

SELECT queue.create('orders', visibility_timeout => '30 seconds',
                    max_deliveries => 5, retry_delay => '1 second',
                    if_not_exists => true);
