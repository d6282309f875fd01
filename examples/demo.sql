-- examples/demo.sql -- a five-minute tour of the queue extension.
--
-- Run it with examples/demo.sh (a throwaway cluster with the extension
-- preloaded), or against your own database:
--
--     psql -X -v ON_ERROR_STOP=1 -f examples/demo.sql
--
-- It creates the extension, so use a database without it.
--
-- Copyright (c) 2026, the queue authors

\set ON_ERROR_STOP on
\set QUIET on
\pset null '(null)'
\pset footer off

\echo
\echo '== 1. Install the extension and create a queue'
\echo '   (retry_delay 10 seconds: a failed message waits ~10 s, then ~20 s, ...)'
CREATE EXTENSION queue;
SELECT queue.create('orders', visibility_timeout => '30 seconds',
                    max_deliveries => 5, retry_delay => '10 seconds') \g /dev/null
SELECT queue_name, visibility_timeout, max_deliveries, retry_delay, retry_delay_max
  FROM queue.queues;

\echo
\echo '== 2. The application''s own tables'
CREATE TABLE orders (
    id         bigserial PRIMARY KEY,
    customer   text NOT NULL,
    item       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE shipments (
    order_id   bigint PRIMARY KEY REFERENCES orders,
    message_id bigint NOT NULL,
    shipped_at timestamptz NOT NULL DEFAULT now()
);

\echo
\echo '== 3. Producer: the order row and its message commit together'
BEGIN;
INSERT INTO orders (customer, item) VALUES ('alice', 'book')
RETURNING id AS order_id \gset
SELECT queue.send('orders',
                  jsonb_build_object('order_id', :order_id, 'customer', 'alice', 'item', 'book'),
                  headers => '{"source": "demo"}') AS message_id;
COMMIT;

\echo
\echo '   ... or not at all: this order and its message are rolled back together'
BEGIN;
INSERT INTO orders (customer, item) VALUES ('mallory', 'nothing')
RETURNING id AS doomed_order_id \gset
SELECT queue.send('orders', jsonb_build_object('order_id', :doomed_order_id)) AS message_id;
ROLLBACK;
SELECT (SELECT count(*) FROM orders) AS orders,
       ready AS messages_ready
  FROM queue.stats('orders', exact => true);

\echo
\echo '== 4. Consumer: read, do the work, ack -- all in one transaction'
\echo '   (if anything fails before COMMIT, the shipment is not written and the'
\echo '    message comes back after its visibility timeout: exactly-once effects)'
BEGIN;
SELECT id AS msg_id, (body->>'order_id')::bigint AS msg_order_id,
       delivery_count AS receipt
  FROM queue.read('orders', 1, '30 seconds') \gset
\echo '   got message' :msg_id 'for order' :msg_order_id '(delivery ':receipt')'
INSERT INTO shipments (order_id, message_id) VALUES (:msg_order_id, :msg_id);
-- With the receipt, the ack fails (returns false) if the message has been
-- handed to another consumer since: a slow consumer cannot ack it away.
SELECT queue.ack('orders', :msg_id, :receipt) AS acked;
COMMIT;
SELECT o.id AS order_id, o.customer, o.item, s.message_id, s.shipped_at IS NOT NULL AS shipped
  FROM orders o JOIN shipments s ON s.order_id = o.id;

\echo
\echo '== 5. A consumer that fails: nack, and the message backs off'
BEGIN;
INSERT INTO orders (customer, item) VALUES ('bob', 'lamp')
RETURNING id AS order_id \gset
SELECT queue.send('orders', jsonb_build_object('order_id', :order_id, 'customer', 'bob', 'item', 'lamp'))
       AS message_id;
COMMIT;

BEGIN;
SELECT id AS msg_id, delivery_count AS receipt
  FROM queue.read('orders', 1, '30 seconds') \gset
\echo '   got message' :msg_id '(delivery ':receipt'), but the carrier API is down: nack it'
SELECT queue.nack('orders', :msg_id, reason => 'carrier API unavailable') AS nacked;
COMMIT;

\echo
\echo '   reading again right away finds nothing: the message waits out its backoff'
\echo '   (retry_delay * 2^(delivery_count-1), with jitter, capped at retry_delay_max)'
SELECT id, delivery_count FROM queue.read('orders', 10, '30 seconds');

\echo
\echo '   stats: nothing ready, one message waiting (in flight or delayed), none dead'
SELECT ready, in_flight, delayed, dead FROM queue.stats('orders', exact => true);

\echo
\echo '== 6. queue.stats(''orders'', exact => true)'
\x on
SELECT * FROM queue.stats('orders', exact => true);
\x off
\echo
\echo 'Done. More in README.md.'
