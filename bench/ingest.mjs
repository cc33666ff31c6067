#!/usr/bin/env node
// bench/ingest: incoming webhooks. 1 KiB JSON posts/s with durable (JetStream) acks, the
// gateway's memory under 50 concurrent 4 MiB posts, and rows/s loaded into Postgres.
// Runs registry, gateway and load-simulator as processes on their own database and
// NATS namespace. Usage: node bench/ingest.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'nats';
import pg from 'pg';
import { build, load, machine, request, ROOT, startService, table } from './lib.mjs';

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdefgh';
const server = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_URL = `${server}/posthooks_bench_ingest`;
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const NAMESPACE = 'bench_ingest';
const GOALS = { rps: 5000, rssMb: 300, rowsPerSecond: 50_000 };

async function reset() {
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS posthooks_bench_ingest WITH (FORCE)');
  await admin.end();
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${NAMESPACE.toUpperCase()}_`)) await jsm.streams.delete(s.config.name);
  await nc.close();
}

const json = async (res) => JSON.parse(res.body);
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

build();
await reset();
const env = { NODE_ENV: 'test', ADMIN_TOKEN, DATABASE_URL, NATS_URL, NATS_NAMESPACE: NAMESPACE, LOG_LEVEL: 'warn' };
const registry = await startService('hook-registry', env);
const gateway = await startService('ingest-gateway', env);
const simulator = await startService('load-simulator', { ...env, LOAD_INTERVAL_MS: '1000' });

const acc = await json(await request(`${registry.url}/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ name: 'bench', plan: 'advanced', notification_email: 'b@example.test' }) }));
const key = { authorization: `Bearer ${acc.api_key}` };
const dest = await json(await request(`${registry.url}/v1/destinations`, { method: 'POST', headers: key, body: JSON.stringify({ name: 'w', type: 'postgres' }) }));
const integration = async (name, primaryKey) => {
  for (;;) {
    const res = await request(`${gateway.url}/v1/integrations`, { method: 'POST', headers: key, body: JSON.stringify({ name, destination_id: dest.id, ...(primaryKey ? { primary_key: primaryKey } : {}) }) });
    if (res.status === 201) return JSON.parse(res.body);
    await new Promise((r) => setTimeout(r, 100)); // the gateway has not seen the destination yet
  }
};
const pathOf = (i) => `${gateway.url}${new URL(i.webhook_url).pathname}`;

console.error('services up; measuring 1 KiB posts');
// 1. 1 KiB posts, as fast as they are acknowledged.
const small = await integration('small', 'id');
const kib = (i) => JSON.stringify({ id: i, note: 'x'.repeat(1024 - 40 - String(i).length) });
await load({ total: 2000, concurrency: 64, expectStatus: 202, makeRequest: (i) => request(pathOf(small), { method: 'POST', body: kib(i) }) });
const posts = await load({ total: 20_000, concurrency: 64, expectStatus: 202, makeRequest: (i) => request(pathOf(small), { method: 'POST', body: kib(2000 + i) }) });

console.error(`1 KiB posts: ${posts.rps.toFixed(0)}/s; now 4 MiB posts`);
// 2. Gateway memory under 50 concurrent 4 MiB posts (three waves).
const big = await integration('big');
const record = JSON.stringify({ payload: 'y'.repeat(1000) });
const fourMiB = `[${Array(Math.floor((4 * 1024 * 1024 - 2) / (record.length + 1))).fill(record).join(',')}]`;
let peak = rssMb(gateway.proc.pid);
const idleRss = peak;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(gateway.proc.pid))), 20);
let bigDone = 0;
const bigPosts = await load({ total: 50, concurrency: 50, expectStatus: 202, makeRequest: () => request(pathOf(big), { method: 'POST', body: fourMiB }).then((r) => (process.env.BENCH_DEBUG && console.error('big', ++bigDone, r.status), r)) });
clearInterval(sampler);
// Let the loader take in those 200 MB before rows are timed.
{
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  for (;;) {
    const info = await jsm.consumers.info(`${NAMESPACE.toUpperCase()}_INGEST`, 'load-simulator');
    if (info.num_pending + info.num_ack_pending === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await nc.close();
}

console.error(`4 MiB posts done, peak RSS ${peak.toFixed(0)} MB; now rows`);
// 3. Rows/s into Postgres: 500,000 records in posts of 10,000, timed until all are in the table.
const rowsIntegration = await integration('rows', 'id');
const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
const ROWS = 500_000;
const started = Date.now();
await load({
  total: ROWS / 10_000,
  concurrency: 4,
  expectStatus: 202,
  makeRequest: (n) => request(pathOf(rowsIntegration), { method: 'POST', body: JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ id: n * 10_000 + i, amount: i * 1.5, sku: `sku-${i}`, at: new Date().toISOString() }))) }),
});
const postedIn = (Date.now() - started) / 1000;
for (;;) {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM "${rowsIntegration.schema}".data`).catch(() => ({ rows: [{ n: 0 }] }));
  if (rows[0].n >= ROWS) break;
  await new Promise((r) => setTimeout(r, 100));
}
const rowsSeconds = (Date.now() - started) / 1000;
await db.end();

const verdict = (ok) => (ok ? 'PASS' : 'MISS');
const report = [
  `# bench/ingest — ${new Date().toISOString()}`,
  '',
  `Machine: ${machine()}. Gateway, registry and load-simulator as separate processes; NATS and Postgres on the same machine.`,
  '',
  table(
    ['measure', 'result', 'goal', ''],
    [
      [`1 KiB JSON posts, 64 concurrent, 202 after JetStream ack (${posts.total} posts, ${posts.unexpected} non-202)`, `${posts.rps.toFixed(0)} req/s, p50 ${posts.p50.toFixed(1)} ms, p99 ${posts.p99.toFixed(1)} ms`, `≥ ${GOALS.rps} req/s`, verdict(posts.rps >= GOALS.rps)],
      [`gateway RSS under 50 concurrent 4 MiB posts (${bigPosts.total} posts, ${bigPosts.unexpected} non-202)`, `peak ${peak.toFixed(0)} MB (idle ${idleRss.toFixed(0)} MB)`, `≤ ${GOALS.rssMb} MB`, verdict(peak <= GOALS.rssMb)],
      [`rows loaded into Postgres (${ROWS.toLocaleString('en')} records in posts of 10,000; posted in ${postedIn.toFixed(1)} s)`, `${(ROWS / rowsSeconds).toFixed(0)} rows/s (${rowsSeconds.toFixed(1)} s)`, `≥ ${GOALS.rowsPerSecond.toLocaleString('en')} rows/s`, verdict(ROWS / rowsSeconds >= GOALS.rowsPerSecond)],
    ],
  ),
  '',
].join('\n');
console.log(`\n${report}`);
writeFileSync(`${ROOT}/bench/results/ingest.md`, report);

await Promise.all([registry.stop(), gateway.stop(), simulator.stop()]);
await reset();
