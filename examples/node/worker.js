#!/usr/bin/env node
// examples/node/worker.js -- a worker loop: long-poll for a message, do the
// work (extending the lease while it takes long), then write the effect and
// ack in one transaction, or nack with the reason on failure. SIGTERM (or
// Ctrl-C) stops it cleanly after the message in hand, at the latest WAIT
// seconds after the signal.
//
//     PGHOST=... PGDATABASE=... node worker.js
//
// Settings from the environment: the libpq ones (PGHOST, PGDATABASE, ...),
// QUEUE (orders), VISIBILITY (seconds a message stays hidden, 30), WAIT
// (seconds of a long poll, 5), WORKER_NAME.
//
// Copyright (c) 2026, the queue authors
'use strict';
const { Client } = require('pg');

const QUEUE = process.env.QUEUE || 'orders';
const VISIBILITY = Number(process.env.VISIBILITY || 30);
const WAIT = Number(process.env.WAIT || 5);
const NAME = process.env.WORKER_NAME || `node-${process.pid}`;

let stopping = false;
class LeaseLost extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The work itself. Here it takes body.work_seconds, calling heartbeat() as it
// goes, and fails when body.fail is set.
async function ship(body, heartbeat) {
  if (body.fail) throw new Error('carrier API down');
  const deadline = Date.now() + 1000 * (body.work_seconds || 0);
  while (Date.now() < deadline) {
    await sleep(50);
    await heartbeat();
  }
}

// Work on one message that this worker holds.
async function handle(client, id, body, receipt) {
  let lastExtend = Date.now();
  // Every third of the visibility timeout, hide the message for another full
  // timeout. The receipt makes it fail (NULL) if the lease was lost meanwhile.
  const heartbeat = async () => {
    if (Date.now() - lastExtend < (1000 * VISIBILITY) / 3) return;
    const { rows } = await client.query(
      'SELECT queue.extend($1, $2, make_interval(secs => $3), receipt => $4) AS until',
      [QUEUE, id, VISIBILITY, receipt]);
    if (rows[0].until === null) throw new LeaseLost();
    lastExtend = Date.now();
  };

  try {
    await ship(body, heartbeat);
    // The effect and the ack commit together, or not at all.
    await client.query('BEGIN');
    try {
      await client.query('INSERT INTO shipments (order_id, worker) VALUES ($1, $2)',
        [body.order_id, NAME]);
      const { rows } = await client.query('SELECT queue.ack($1, $2, $3) AS acked',
        [QUEUE, id, receipt]);
      if (!rows[0].acked) throw new LeaseLost();
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK'); // the effect goes with the ack
      throw err;
    }
    console.log(`acked ${id}`);
  } catch (err) {
    if (err instanceof LeaseLost) {
      console.log(`lost ${id}`);
      return;
    }
    // Back to the queue after its backoff, or to the dead letters after
    // max_deliveries, with the reason.
    await client.query('SELECT queue.nack($1, $2, reason => $3, receipt => $4)',
      [QUEUE, id, err.message, receipt]);
    console.log(`nacked ${id}: ${err.message}`);
  }
}

async function main() {
  process.on('SIGTERM', () => { stopping = true; });
  process.on('SIGINT', () => { stopping = true; });
  // Each statement is its own transaction unless we say BEGIN: the read
  // commits at once, so the message stays ours for the visibility timeout
  // while we work outside any transaction.
  const client = new Client();
  await client.connect();
  console.log(`${NAME} ready`);
  while (!stopping) {
    const { rows } = await client.query(
      `SELECT id, body, delivery_count
         FROM queue.read($1, 1, make_interval(secs => $2), wait => make_interval(secs => $3))`,
      [QUEUE, VISIBILITY, WAIT]);
    if (rows.length === 0) continue; // nothing for WAIT: poll again
    const { id, body, delivery_count: receipt } = rows[0];
    console.log(`took ${id} (delivery ${receipt})`);
    await handle(client, id, body, receipt);
  }
  await client.end();
  console.log(`${NAME} stopped`);
}

main().catch((err) => { console.error(err); process.exit(1); });
