#!/usr/bin/env node
// examples/node/producer.js -- write a business row and send its message in
// one transaction: both commit, or neither does.
//
//     PGHOST=... PGDATABASE=... node producer.js CUSTOMER ITEM ['{"extra": "json"}']
//
// Connection settings come from the libpq environment (PGHOST, PGPORT,
// PGDATABASE, PGUSER, ...), as node-postgres reads them.
//
// Copyright (c) 2026, the queue authors
'use strict';
const { Client } = require('pg');

const QUEUE = 'orders';

// Insert an order and send {"order_id": id, ...extra} to the queue.
async function placeOrder(client, customer, item, extra = {}) {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query(
      'INSERT INTO orders (customer, item) VALUES ($1, $2) RETURNING id', [customer, item]);
    const orderId = Number(rows[0].id);
    await client.query('SELECT queue.send($1, $2)', [QUEUE, { order_id: orderId, ...extra }]);
    await client.query('COMMIT');
    return orderId;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

module.exports = { placeOrder };

if (require.main === module) {
  (async () => {
    const client = new Client();
    await client.connect();
    try {
      const extra = process.argv[4] ? JSON.parse(process.argv[4]) : {};
      console.log(await placeOrder(client, process.argv[2], process.argv[3], extra));
    } finally {
      await client.end();
    }
  })().catch((err) => { console.error(err.message); process.exit(1); });
}
