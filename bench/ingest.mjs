#!/usr/bin/env node
// bench/ingest: incoming webhooks. 1 KiB JSON posts/s with durable (JetStream) acks, the
// gateway's memory under 50 concurrent 4 MiB posts, and rows/s loaded into Postgres.
// Runs registry, gateway and load-simulator as processes on their own database and
// NATS namespace. The 1 KiB posts are sent by bench/keep-alive-client.mjs (64 keep-alive
// connections, raw HTTP/1.1) rather than node:http, whose client took a fifth of the
// 2 cores the services are measured on: the goal is the gateway's capacity, not the
// client's. Usage: node bench/ingest.mjs
import { writeFileSync } from 'node:fs';
import { connect } from 'nats';
import { build, machine, request, ROOT, startService, table } from './lib.mjs';
import { ADMIN_TOKEN, benchEnv, fourMiBPosts, integration as createIntegration, kibPosts, loadRows, resetBench } from './stack.mjs';

const E = benchEnv('ingest');
const { DATABASE_URL, NATS_URL, namespace: NAMESPACE } = E;
const GOALS = { rps: 5000, rssMb: 300, rowsPerSecond: 50_000 };
const reset = () => resetBench(E);
const json = async (res) => JSON.parse(res.body);

build();
await reset();
const env = { NODE_ENV: 'test', ADMIN_TOKEN, DATABASE_URL, NATS_URL, NATS_NAMESPACE: NAMESPACE, LOG_LEVEL: 'warn' };
const registry = await startService('hook-registry', env);
const gateway = await startService('ingest-gateway', env);
const simulator = await startService('load-simulator', { ...env, LOAD_INTERVAL_MS: '1000' });

const acc = await json(await request(`${registry.url}/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ name: 'bench', plan: 'advanced', notification_email: 'b@example.test' }) }));
const key = { authorization: `Bearer ${acc.api_key}` };
const dest = await json(await request(`${registry.url}/v1/destinations`, { method: 'POST', headers: key, body: JSON.stringify({ name: 'w', type: 'postgres' }) }));
const integration = (name, primaryKey) => createIntegration(gateway.url, acc.api_key, dest.id, name, primaryKey);

console.error('services up; measuring 1 KiB posts');
// 1. 1 KiB posts, as fast as they are acknowledged.
const small = await integration('small', 'id');
await kibPosts(small, 2000);
const posts = await kibPosts(small, 20_000, 2000);

console.error(`1 KiB posts: ${posts.rps.toFixed(0)}/s; now 4 MiB posts`);
// 2. Gateway memory under 50 concurrent 4 MiB posts (three waves).
const big = await integration('big');
const nc = await connect({ servers: NATS_URL });
const { peak, idle: idleRss, ...bigPosts } = await fourMiBPosts(big, gateway.proc.pid, await nc.jetstreamManager(), E.streamPrefix);
await nc.close();

console.error(`4 MiB posts done, peak RSS ${peak.toFixed(0)} MB; now rows`);
// 3. Rows/s into Postgres: 500,000 records in posts of 10,000, timed until all are in the table.
const rowsIntegration = await integration('rows', 'id');
const ROWS = 500_000;
const { postedIn, seconds: rowsSeconds } = await loadRows(rowsIntegration, DATABASE_URL, ROWS);

const verdict = (ok) => (ok ? 'PASS' : 'MISS');
const report = [
  `# bench/ingest — ${new Date().toISOString()}`,
  '',
  `Machine: ${machine()}. Gateway, registry and load-simulator as separate processes; NATS and Postgres on the same machine.`,
  '',
  table(
    ['measure', 'result', 'goal', ''],
    [
      [`1 KiB JSON posts, 64 concurrent keep-alive connections (lean raw-HTTP client), 202 after JetStream ack (${posts.total} posts, ${posts.unexpected} non-202)`, `${posts.rps.toFixed(0)} req/s, p50 ${posts.p50.toFixed(1)} ms, p99 ${posts.p99.toFixed(1)} ms`, `≥ ${GOALS.rps} req/s`, verdict(posts.rps >= GOALS.rps)],
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
