#!/usr/bin/env node
// bench/claim (`npm run bench:claim`): what one claim of due deliveries costs in Postgres
// (DeliveryStore.claim, the statement every dispatcher replica runs whenever it has
// room), against how much is pending: many deliveries waiting on a few hooks, and many
// hooks with something pending. Each claim runs in a transaction that is rolled back,
// so every measurement sees the same table. Runs the dispatcher once to migrate its
// schema in the bench's own database, then talks to Postgres directly.
// Usage: node bench/claim.mjs
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import pg from 'pg';
import { build, machine, startService, table } from './lib.mjs';
import { benchEnv, fmt, now, resetBench } from './stack.mjs';

const require = createRequire(import.meta.url);
const E = benchEnv('claim');
const CLAIMS = 50;
// [what, hooks with pending deliveries, waiting (not due) per hook, due per hook]
const SHAPES = [
  ['1 hook: 10,000 waiting, 100 due', 1, 10_000, 100],
  ['1 hook: 1,000,000 waiting, 100 due', 1, 1_000_000, 100],
  ['100 hooks: 100 waiting, 10 due each', 100, 100, 10],
  ['1,000 hooks: 10 waiting, 1 due each', 1_000, 10, 1],
  ['10,000 hooks: 10 waiting each, none due', 10_000, 10, 0],
  ['10,000 hooks: 10 waiting, 1 due each', 10_000, 10, 1],
];

await main();

async function main() {
  build();
  await resetBench(E);
  const dispatcher = await startService('dispatcher', { NODE_ENV: 'test', DATABASE_URL: E.DATABASE_URL, NATS_URL: E.NATS_URL, NATS_NAMESPACE: E.namespace, LOG_LEVEL: 'warn' });
  await dispatcher.stop(); // its schema is migrated; the bench claims itself
  const client = new pg.Client({ connectionString: E.DATABASE_URL, options: '-c search_path=dispatcher' });
  await client.connect();
  const { DeliveryStore } = require('../dist/apps/dispatcher/src/delivery/delivery-store.js');
  // The store's only dependency is `query`, as TypeORM's DataSource answers it for a SELECT.
  const store = new DeliveryStore({ query: async (sql, params) => (await client.query(sql, params)).rows });
  const { FairShare, shareLimits } = require('../dist/apps/dispatcher/src/delivery/fair-share.js');
  const plan = { ...new FairShare(shareLimits(64, 8, 0.5)).plan(), leaseMs: 36_000 };
  const rows = [];
  try {
    for (const [what, hooks, waiting, due] of SHAPES) {
      await client.query('TRUNCATE deliveries CASCADE');
      // Hook h belongs to account h % 500: several hooks per account, as with real accounts.
      await client.query(
        `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, next_attempt_at)
         SELECT 'msg_' || h || '_' || i, h, 1 + h % 500, 'ev-' || i, 'table.loaded', '{}',
                CASE WHEN i < $3 THEN now() - interval '1 second' ELSE now() + interval '10 minutes' END
         FROM generate_series(1, $1::int) AS h, generate_series(0, $2::int + $3::int - 1) AS i`,
        [hooks, waiting, due],
      );
      await client.query('ANALYZE deliveries');
      const times = [];
      let claimed = 0;
      for (let i = 0; i < CLAIMS; i++) {
        await client.query('BEGIN');
        const t = now();
        claimed = (await store.claim(plan)).length;
        times.push(now() - t);
        await client.query('ROLLBACK');
      }
      times.sort((a, b) => a - b);
      rows.push([what, (hooks * (waiting + due)).toLocaleString('en'), claimed, fmt(times[Math.floor(CLAIMS / 2)], 2), fmt(times[CLAIMS - 1], 2)]);
      console.error(`${what}: ${rows[rows.length - 1].slice(2).join(' ')}`);
    }
  } finally {
    await client.end();
    await resetBench(E);
  }
  const out = [
    `# bench/claim — ${new Date().toISOString()}`,
    '',
    `Machine: ${machine()}, 1-minute load average ${os.loadavg()[0].toFixed(2)}. One claim as a replica with nothing in flight runs it (DELIVERY_CONCURRENCY=64, DELIVERY_CONCURRENCY_PER_HOST=8: 16 per hook, DELIVERY_ACCOUNT_SHARE=0.5), ${CLAIMS} times per shape, each in a transaction rolled back. Hook h belongs to account 1 + h % 500.`,
    '',
    table(['pending deliveries', 'rows', 'claimed', 'claim p50 ms', 'claim max ms'], rows),
    '',
  ].join('\n');
  console.log(out);
  writeFileSync(new URL('./results/claim.md', import.meta.url), out);
}
