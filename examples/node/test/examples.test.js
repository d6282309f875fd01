// Tests of the Node examples against a PostgreSQL server with the queue
// extension preloaded (test/run-all.sh runs them on its throwaway cluster; by
// hand: test/cluster.sh bash -c 'cd examples/node && node --test').
//
// Each test gets a database of its own with examples/app.sql loaded, and runs
// producer.js and worker.js as a user would, as processes.
//
// Copyright (c) 2026, the queue authors
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn, execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');

const HERE = path.resolve(__dirname, '..');
const APP_SQL = fs.readFileSync(path.join(HERE, '..', 'app.sql'), 'utf8');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function withClient(database, fn) {
  const client = new Client({ database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// A fresh database with the extension and the app's tables, dropped after
// the test.
async function freshDb(t) {
  const name = `ex_node_${randomBytes(5).toString('hex')}`;
  await withClient('postgres', (c) => c.query(`CREATE DATABASE "${name}"`));
  t.after(() => withClient('postgres', (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
  await withClient(name, async (c) => {
    await c.query('SET client_min_messages = warning');
    await c.query('CREATE EXTENSION queue');
    await c.query(APP_SQL);
  });
  return name;
}

async function query(db, sql, params) {
  return withClient(db, async (c) => (await c.query(sql, params)).rows);
}

function produce(db, customer, item, extra = '{}') {
  const out = execFileSync(process.execPath, [path.join(HERE, 'producer.js'), customer, item, extra],
    { env: { ...process.env, PGDATABASE: db }, timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
  return Number(out.toString().trim());
}

// worker.js as a process; lines holds what it printed so far.
class Worker {
  constructor(db, name, settings = {}) {
    this.name = name;
    this.lines = [];
    this.proc = spawn(process.execPath, [path.join(HERE, 'worker.js')], {
      env: { ...process.env, PGDATABASE: db, WORKER_NAME: name, WAIT: '1', ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    const take = (chunk) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop();
      this.lines.push(...parts);
    };
    this.proc.stdout.on('data', take);
    this.proc.stderr.on('data', take);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  async waitFor(text, timeout = 30000) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (this.lines.some((l) => l.includes(text))) return;
      if (this.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`no line with "${text}" within ${timeout} ms: ${JSON.stringify(this.lines)}`);
  }

  async terminate(signal = 'SIGTERM') {
    this.proc.kill(signal);
    return this.exited;
  }
}

async function waitUntil(check, timeout = 30000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`not true within ${timeout} ms`);
}

async function stats(db) {
  const [s] = await query(db, "SELECT ready, in_flight, delayed, dead FROM queue.stats('orders', exact => true)");
  return [s.ready, s.in_flight, s.delayed, s.dead].map(Number);
}

const count = async (db, sql) => Number((await query(db, sql))[0].count);

test('the producer writes the row and the message together', async (t) => {
  const db = await freshDb(t);
  const orderId = produce(db, 'alice', 'book');
  assert.deepStrictEqual(await query(db, 'SELECT customer, item FROM orders WHERE id = $1', [orderId]),
    [{ customer: 'alice', item: 'book' }]);
  assert.deepStrictEqual(await query(db, "SELECT body FROM queue.read('orders', 10)"),
    [{ body: { order_id: orderId } }]);
  // a send that fails takes the order with it
  await query(db, "SELECT queue.drop('orders')");
  assert.throws(() => produce(db, 'bob', 'pen'));
  assert.strictEqual(await count(db, 'SELECT count(*) FROM orders'), 1);
});

test('workers ship every order once', async (t) => {
  const db = await freshDb(t);
  const orders = [];
  for (let i = 0; i < 20; i++) orders.push(produce(db, `customer-${i}`, 'book'));
  const workers = [new Worker(db, 'w1'), new Worker(db, 'w2')];
  await Promise.all(workers.map((w) => w.waitFor('ready')));
  await waitUntil(async () => (await count(db, 'SELECT count(*) FROM shipments')) >= 20);
  for (const w of workers) {
    assert.deepStrictEqual(await w.terminate(), { code: 0, signal: null });
    assert.ok(w.lines.includes(`${w.name} stopped`));
  }
  const shipped = await query(db, 'SELECT order_id, count(*) FROM shipments GROUP BY 1 ORDER BY 1');
  assert.deepStrictEqual(shipped.map((r) => [Number(r.order_id), Number(r.count)]), orders.map((o) => [o, 1]));
  assert.deepStrictEqual(await stats(db), [0, 0, 0, 0]);
});

test('a failure is nacked with its reason, then dead-lettered', async (t) => {
  const db = await freshDb(t);
  await query(db, "SELECT queue.alter('orders', max_deliveries => 2, retry_delay => '0.2 seconds')");
  const bad = produce(db, 'carol', 'vase', '{"fail": true}');
  const good = produce(db, 'dave', 'lamp');
  const w = new Worker(db, 'w1');
  await waitUntil(async () => (await stats(db))[3] === 1);
  await waitUntil(async () => (await count(db, 'SELECT count(*) FROM shipments')) === 1);
  assert.strictEqual((await w.terminate()).code, 0);
  const dead = await query(db, "SELECT (body->>'order_id')::int AS order_id, delivery_count, reason FROM queue.dead_letters('orders')");
  assert.deepStrictEqual(dead, [{ order_id: bad, delivery_count: 2, reason: 'carrier API down' }]);
  assert.deepStrictEqual((await query(db, 'SELECT order_id FROM shipments')).map((r) => Number(r.order_id)), [good]);
  assert.strictEqual(w.lines.filter((l) => l.includes('nacked')).length, 2);
});

test('long work extends its lease', async (t) => {
  // 3 s of work with a 1 s visibility timeout: without extend the second
  // worker would take the message too
  const db = await freshDb(t);
  const orderId = produce(db, 'erin', 'piano', '{"work_seconds": 3}');
  const w1 = new Worker(db, 'w1', { VISIBILITY: '1' });
  await w1.waitFor('took');
  const w2 = new Worker(db, 'w2', { VISIBILITY: '1' });
  await w1.waitFor('acked', 20000);
  assert.strictEqual((await w1.terminate()).code, 0);
  assert.strictEqual((await w2.terminate()).code, 0);
  const rows = await query(db, 'SELECT order_id, worker FROM shipments');
  assert.deepStrictEqual(rows.map((r) => [Number(r.order_id), r.worker]), [[orderId, 'w1']]);
  assert.ok(!w2.lines.some((l) => l.includes('took')));
});

test('SIGTERM stops an idle worker', async (t) => {
  const db = await freshDb(t);
  const w = new Worker(db, 'w1');
  await w.waitFor('ready');
  const started = Date.now();
  assert.deepStrictEqual(await w.terminate(), { code: 0, signal: null });
  assert.ok(Date.now() - started < 5000);
  assert.strictEqual(w.lines[w.lines.length - 1], 'w1 stopped');
});

test('a killed worker loses nothing', async (t) => {
  // w1 dies (SIGKILL) in the middle of the work: its lease runs out after the
  // visibility timeout and w2 ships the order, once
  const db = await freshDb(t);
  const orderId = produce(db, 'frank', 'sofa', '{"work_seconds": 2}');
  const w1 = new Worker(db, 'w1', { VISIBILITY: '2' });
  await w1.waitFor('took');
  assert.strictEqual((await w1.terminate('SIGKILL')).signal, 'SIGKILL');
  const killed = Date.now();
  assert.strictEqual((await stats(db))[1], 1); // still in flight, nobody has it
  const w2 = new Worker(db, 'w2', { VISIBILITY: '2' });
  await w2.waitFor('took', 20000);
  assert.ok(Date.now() - killed > 1000); // not before the timeout ran out
  await w2.waitFor('acked', 20000);
  assert.strictEqual((await w2.terminate()).code, 0);
  const rows = await query(db, 'SELECT order_id, worker FROM shipments');
  assert.deepStrictEqual(rows.map((r) => [Number(r.order_id), r.worker]), [[orderId, 'w2']]);
  assert.ok(w2.lines.some((l) => l.includes('(delivery 2)')));
  assert.deepStrictEqual(await stats(db), [0, 0, 0, 0]);
});
