#!/usr/bin/env node
// bench/log (`npm run bench:log`): the delivery log (GET /v1/hooks/{id}/deliveries, SPEC §5)
// when the dispatcher holds millions of attempts: p50/p99 of the newest 50 attempts of a
// hook, through the running dispatcher's HTTP API with an account key, and of the same
// DeliveryLogService.list without HTTP. The table is filled in SQL (generate_series, in
// chunks) with ATTEMPTS attempt rows (default 10 million, two per delivery) spread over
// 1,000 hooks of 100 accounts and over the last 31 days; then the retention sweep
// (RETENTION_DAYS=30) is run once and timed: it removes the oldest day.
// Usage: node bench/log.mjs [attempts]     (e.g. 1000000 for a quicker run)
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { connect } from 'nats';
import pg from 'pg';
import { build, load, machine, percentile, request, startService, table } from './lib.mjs';
import { benchEnv, fmt, now, resetBench } from './stack.mjs';

const require = createRequire(import.meta.url);
const E = benchEnv('log');
const ATTEMPTS = Number(process.argv[2] ?? process.env.LOG_ATTEMPTS ?? 10_000_000);
const ACCOUNTS = 100;
const HOOKS_PER_ACCOUNT = 10;
const ATTEMPTS_PER_DELIVERY = 2;
/** Hooks filled per INSERT: each chunk is one statement of a bounded size. */
const HOOKS_PER_CHUNK = 20;
const REQUESTS = 2000;
const SPAN_DAYS = 31;

await main();

async function main() {
  build();
  await resetBench(E);
  const env = { NODE_ENV: 'test', DATABASE_URL: E.DATABASE_URL, NATS_URL: E.NATS_URL, NATS_NAMESPACE: E.namespace, LOG_LEVEL: 'warn', DELIVERY_POLL_MS: '3600000', RETENTION_DAYS: '3650' };
  // (Its own sweep, a minute after its start, then finds nothing to remove: the bench times one itself.)
  const dispatcher = await startService('dispatcher', env); // migrates the schema; stays up for the HTTP measurements
  const client = new pg.Client({ connectionString: E.DATABASE_URL, options: '-c search_path=dispatcher' });
  await client.connect();
  const nc = await connect({ servers: E.NATS_URL });
  const rows = [];
  let sweepLine = '';
  try {
    // Accounts and hooks as the registry announces them (the dispatcher's view learns keys from REGISTRY).
    const { RegistryEvents } = require('../dist/libs/testing/src/registry-events.js');
    const registry = new RegistryEvents(nc, E.namespace);
    const hooks = []; // { id, accountId, key }
    for (let a = 0; a < ACCOUNTS; a++) {
      const account = await registry.account('advanced');
      for (let h = 0; h < HOOKS_PER_ACCOUNT; h++) {
        const hook = await registry.hook(account.id, `https://hooks-${a}.example.com/${h}`);
        hooks.push({ id: hook.hook_id, accountId: account.id, key: account.key });
      }
    }

    const perHook = Math.max(1, Math.round(ATTEMPTS / ATTEMPTS_PER_DELIVERY / hooks.length));
    const total = perHook * ATTEMPTS_PER_DELIVERY * hooks.length;
    console.error(`filling ${total.toLocaleString('en')} attempts (${(perHook * hooks.length).toLocaleString('en')} deliveries) over ${hooks.length} hooks...`);
    await client.query('SET synchronous_commit = off');
    const fillStarted = now();
    for (let from = 0; from < hooks.length; from += HOOKS_PER_CHUNK) {
      const chunk = hooks.slice(from, from + HOOKS_PER_CHUNK);
      await fill(client, chunk, perHook);
      const done = (from + chunk.length) * perHook * ATTEMPTS_PER_DELIVERY;
      const seconds = (now() - fillStarted) / 1000;
      console.error(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')} attempts, ${fmt(seconds, 0)} s, ${Math.round(done / seconds).toLocaleString('en')}/s`);
    }
    const fillSeconds = (now() - fillStarted) / 1000;
    // As a table in steady state is: vacuumed (hint bits and visibility map set, so the first
    // reads do not write) and analyzed; otherwise autovacuum would run beside the measurements.
    const vacuumStarted = now();
    await client.query('VACUUM (ANALYZE) deliveries, attempts');
    console.error(`vacuumed and analyzed in ${fmt((now() - vacuumStarted) / 1000, 0)} s`);
    const size = (await client.query(`SELECT pg_size_pretty(pg_total_relation_size('attempts') + pg_total_relation_size('deliveries')) AS s`)).rows[0].s;
    console.error(`filled in ${fmt(fillSeconds, 0)} s; tables and indexes: ${size}`);

    const pick = (i) => hooks[(i * 7919) % hooks.length];
    const page = (h, query = '') => request(`${dispatcher.url}/v1/hooks/${h.id}/deliveries?limit=50${query}`, { headers: { authorization: `Bearer ${h.key}` } });
    // The view has the keys once the last hook's log answers 200.
    for (let i = 0; ; i++) {
      const last = hooks[hooks.length - 1];
      const res = await page(last);
      if (res.status === 200) {
        if (JSON.parse(res.body).data.length !== 50) throw new Error(`expected 50 attempts, got ${res.body.slice(0, 200)}`);
        break;
      }
      if (i > 300) throw new Error(`the dispatcher never served the log: ${res.status} ${res.body}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // A second page of each hook: its cursor, taken once per hook.
    const cursors = new Map();
    for (const h of hooks) cursors.set(h.id, JSON.parse((await page(h)).body).next_cursor);

    const shapes = [
      ['HTTP, newest 50 of a hook', 1, (i) => page(pick(i))],
      ['HTTP, newest 50 of a hook', 8, (i) => page(pick(i))],
      ['HTTP, newest 50 failed of a hook', 1, (i) => page(pick(i), '&status=failed')],
      ['HTTP, second page (cursor)', 1, (i) => page(pick(i), `&cursor=${encodeURIComponent(cursors.get(pick(i).id))}`)],
    ];
    for (const [what, concurrency, makeRequest] of shapes) {
      await load({ total: 200, concurrency, makeRequest, expectStatus: 200 }); // warm-up
      const r = await load({ total: REQUESTS, concurrency, makeRequest, expectStatus: 200 });
      if (r.unexpected > 0) throw new Error(`${what}: ${r.unexpected} answers were not 200`);
      rows.push([what, concurrency, REQUESTS, fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p99, 2)]);
      console.error(rows[rows.length - 1].join(' | '));
    }

    // The same list without HTTP: DeliveryLogService.list over one connection (its SQL and mapping).
    const { DeliveryLogService } = require('../dist/apps/dispatcher/src/log/delivery-log.service.js');
    const view = { hooks: new Map(hooks.map((h) => [h.id, { account_id: h.accountId }])) };
    const service = new DeliveryLogService({ query: async (sql, params) => (await client.query(sql, params)).rows }, null, view, null);
    const times = [];
    for (let i = 0; i < REQUESTS + 200; i++) {
      const h = pick(i);
      const t = now();
      const { data } = await service.list(h.accountId, h.id, { limit: 50 });
      if (i >= 200) times.push(now() - t);
      if (data.length !== 50) throw new Error(`expected 50 attempts, got ${data.length}`);
    }
    times.sort((a, b) => a - b);
    rows.push(['DeliveryLogService.list (SQL, no HTTP)', 1, REQUESTS, fmt(REQUESTS / (times.reduce((a, b) => a + b, 0) / 1000), 0), fmt(percentile(times, 50), 2), fmt(percentile(times, 99), 2)]);
    console.error(rows[rows.length - 1].join(' | '));

    // The retention sweep as the dispatcher runs it (RETENTION_DAYS=30): the oldest of the 31 days goes.
    const { DeliveryRetention } = require('../dist/apps/dispatcher/src/delivery/delivery-retention.js');
    const db = { query: async (sql, params) => ((r) => (r.command === 'DELETE' ? [r.rows, r.rowCount] : r.rows))(await client.query(sql, params)) };
    const retention = new DeliveryRetention(db, { RETENTION_DAYS: 30, RETENTION_SWEEP_MS: 3_600_000 });
    const before = Number((await client.query('SELECT count(*) AS n FROM attempts')).rows[0].n);
    const t = now();
    const { deliveries } = await retention.sweep();
    const sweepSeconds = (now() - t) / 1000;
    const after = Number((await client.query('SELECT count(*) AS n FROM attempts')).rows[0].n);
    sweepLine = `Retention sweep (RETENTION_DAYS=30, batches of 1,000 deliveries): removed ${deliveries.toLocaleString('en')} deliveries and ${(before - after).toLocaleString('en')} attempts in ${fmt(sweepSeconds, 2)} s, with the dispatcher idle.`;
    console.error(sweepLine);

    const out = [
      `# bench/log — ${new Date().toISOString()}`,
      '',
      `Machine: ${machine()}, 1-minute load average ${os.loadavg()[0].toFixed(2)}. The dispatcher as a process (dist/), its delivery log over ${total.toLocaleString('en')} attempt rows (${ATTEMPTS_PER_DELIVERY} per delivery, ${(perHook * hooks.length).toLocaleString('en')} deliveries, ${perHook * ATTEMPTS_PER_DELIVERY} attempts per hook) of ${hooks.length} hooks of ${ACCOUNTS} accounts, spread over ${SPAN_DAYS} days; tables and indexes ${size}, filled in ${fmt(fillSeconds, 0)} s, then vacuumed and analyzed. Each row: ${REQUESTS} calls (after 200 to warm up) for hooks taken round the 1,000, \`limit=50\`; goal: p99 under 20 ms for the newest 50. With 8 in flight the calls queue for the 2 cores the bench, the dispatcher and Postgres share.`,
      '',
      table(['what', 'in flight', 'calls', 'calls/s', 'p50 ms', 'p99 ms'], rows),
      '',
      sweepLine,
      '',
    ].join('\n');
    console.log(out);
    writeFileSync(new URL('./results/log.md', import.meta.url), out);
  } finally {
    await nc.close();
    await client.end();
    await dispatcher.stop();
    await resetBench(E);
  }
}

/**
 * `perHook` final deliveries of each hook of `chunk` (one in ten failed, the rest
 * succeeded), each with ATTEMPTS_PER_DELIVERY attempts, evenly spread over SPAN_DAYS up to
 * now: one statement per table per chunk.
 */
async function fill(client, chunk, perHook) {
  const ids = chunk.map((h) => h.id);
  const accounts = chunk.map((h) => h.accountId);
  const at = `now() - ($2::int - i) * ($3::int * interval '1 day') / $2::int`;
  await client.query(
    `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, state, round_attempts, attempts, last_error, created_at, updated_at)
     SELECT 'msg_' || h.id || '_' || i, h.id, h.account_id, 'ev-' || i, 'table.loaded', '{"integration_name":"shop","source_root_table_name":"orders"}',
            CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END, ${ATTEMPTS_PER_DELIVERY}, ${ATTEMPTS_PER_DELIVERY},
            CASE WHEN i % 10 = 0 THEN 'HTTP 503' END, ${at}, ${at}
     FROM unnest($1::int[], $4::int[]) AS h (id, account_id), generate_series(1, $2::int) AS i`,
    [ids, perHook, SPAN_DAYS, accounts],
  );
  await client.query(
    `INSERT INTO attempts (webhook_id, hook_id, attempt, status, status_code, error, duration_ms, response_body, attempted_at)
     SELECT 'msg_' || h || '_' || i, h, a,
            CASE WHEN a = ${ATTEMPTS_PER_DELIVERY} AND i % 10 <> 0 THEN 'succeeded' ELSE 'failed' END,
            CASE WHEN a = ${ATTEMPTS_PER_DELIVERY} AND i % 10 <> 0 THEN 200 ELSE 503 END,
            CASE WHEN a = ${ATTEMPTS_PER_DELIVERY} AND i % 10 <> 0 THEN NULL ELSE 'HTTP 503' END,
            40, '{"ok":true}', ${at} - (${ATTEMPTS_PER_DELIVERY} - a) * interval '5 seconds'
     FROM unnest($1::int[]) AS h, generate_series(1, $2::int) AS i, generate_series(1, ${ATTEMPTS_PER_DELIVERY}) AS a`,
    [ids, perHook, SPAN_DAYS],
  );
}
