#!/usr/bin/env node
// bench/registry: requests/s and latency of the hooks API at 10,000 accounts x 10 hooks.
// Runs the registry as a process (as operators do) on its own database and NATS
// namespace; seeds with SQL (the API would take minutes), then measures over HTTP.
// Usage: node bench/registry.mjs [accounts=10000]
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { build, load, machine, request, ROOT, startService, table } from './lib.mjs';
import { ADMIN_TOKEN, benchEnv, resetBench, waitUntil } from './stack.mjs';

const ACCOUNTS = Number(process.argv[2] ?? 10_000);
const HOOKS_PER_ACCOUNT = 10;
const CREATE_ACCOUNTS = 1_000; // fresh accounts that receive the measured creates
const CONCURRENCY = 32;
const E = benchEnv('registry');
const { DATABASE_URL, NATS_URL, namespace: NAMESPACE } = E;
const reset = () => resetBench(E);

/** Accounts 1..n with key `phk_bench_<id>`, one destination each, and `hooks` hooks each. */
async function seed(db, from, to, hooks) {
  await db.query(`INSERT INTO hook_registry.accounts (id, name, plan, notification_email) SELECT i, 'bench ' || i, 'advanced', 'bench@example.test' FROM generate_series($1::int, $2::int) i`, [from, to]);
  await db.query(`INSERT INTO hook_registry.api_keys (account_id, label, key_hash) SELECT i, 'owner', encode(sha256(convert_to('phk_bench_' || i, 'UTF8')), 'hex') FROM generate_series($1::int, $2::int) i`, [from, to]);
  // The registry checks keys in memory, learnt from the REGISTRY stream (a wrong key costs no
  // query): keys seeded by SQL reach it, as issued ones do, through the outbox its relay publishes.
  await db.query(
    `INSERT INTO hook_registry.outbox (subject, payload)
     SELECT 'registry.api_key.changed', json_build_object('key_id', id, 'account_id', account_id, 'label', label, 'key_hash', key_hash, 'revoked_at', NULL, 'changed_by', 'bench', 'changed_at', now())
     FROM hook_registry.api_keys WHERE account_id BETWEEN $1 AND $2 ORDER BY id`,
    [from, to],
  );
  await db.query(`INSERT INTO hook_registry.destinations (id, account_id, name, type, schema) SELECT i, i, 'warehouse', 'postgres', 'public' FROM generate_series($1::int, $2::int) i`, [from, to]);
  if (hooks > 0) {
    await db.query(
      `INSERT INTO hook_registry.hooks (account_id, destination_id, slot, url)
       SELECT i, i, s, 'https://hooks.example.com/' || i || '/' || s FROM generate_series($1::int, $2::int) i, generate_series(1, $3::int) s`,
      [from, to, hooks],
    );
    // The secret's value does not matter to these requests.
    await db.query(`INSERT INTO hook_registry.hook_secrets (hook_id, secret) SELECT id, 'whsec_' || md5(random()::text) FROM hook_registry.hooks WHERE account_id BETWEEN $1 AND $2`, [from, to]);
  }
  for (const t of ['accounts', 'destinations']) await db.query(`SELECT setval(pg_get_serial_sequence('hook_registry.${t}', 'id'), (SELECT max(id) FROM hook_registry.${t}))`);
  await db.query('ANALYZE');
}

build();
await reset();
const registry = await startService('hook-registry', { NODE_ENV: 'test', ADMIN_TOKEN, DATABASE_URL, NATS_URL, NATS_NAMESPACE: NAMESPACE, LOG_LEVEL: 'warn' });
const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
const t0 = Date.now();
await seed(db, 1, ACCOUNTS, HOOKS_PER_ACCOUNT);
await seed(db, ACCOUNTS + 1, ACCOUNTS + CREATE_ACCOUNTS, 0);
// The last seeded key works once the relay has published every key and the registry has read them.
await waitUntil('the registry to know the seeded keys', async () => (await request(`${registry.url}/notifications/public/v1/api/hooks`, { headers: { authorization: `Bearer phk_bench_${ACCOUNTS + CREATE_ACCOUNTS}` } })).status === 200, 120_000);
console.log(`seeded ${ACCOUNTS} accounts x ${HOOKS_PER_ACCOUNT} hooks in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const HOOKS = `${registry.url}/notifications/public/v1/api/hooks`;
const auth = (id) => ({ authorization: `Bearer phk_bench_${id}` });
const randomAccount = () => 1 + Math.floor(Math.random() * ACCOUNTS);

await load({ total: 2000, concurrency: CONCURRENCY, expectStatus: 200, makeRequest: () => request(HOOKS, { headers: auth(randomAccount()) }) }); // warm-up
const list = await load({ total: 20_000, concurrency: CONCURRENCY, expectStatus: 200, makeRequest: () => request(HOOKS, { headers: auth(randomAccount()) }) });
// Creates spread over the fresh accounts: request i goes to account i mod 1,000, so the ten of one account never run at once.
const create = await load({
  total: CREATE_ACCOUNTS * HOOKS_PER_ACCOUNT,
  concurrency: CONCURRENCY,
  expectStatus: 200,
  makeRequest: (i) => {
    const id = ACCOUNTS + 1 + (i % CREATE_ACCOUNTS);
    return request(HOOKS, { method: 'POST', headers: auth(id), body: JSON.stringify({ type: 'post_load', destination_id: id, config: { url: `https://hooks.example.com/new/${i}` } }) });
  },
});
const [{ n: hookCount }] = (await db.query('SELECT count(*)::int AS n FROM hook_registry.hooks')).rows;

const fmt = (r) => [r.total, r.rps.toFixed(0), r.p50.toFixed(2), r.p99.toFixed(2), r.unexpected];
const report = [
  `# bench/registry — ${new Date().toISOString()}`,
  '',
  `Machine: ${machine()}. ${ACCOUNTS.toLocaleString('en')} accounts x ${HOOKS_PER_ACCOUNT} hooks (${hookCount.toLocaleString('en')} hooks at the end), ${CONCURRENCY} concurrent keep-alive clients, one registry process.`,
  '',
  table(['operation', 'requests', 'requests/s', 'median ms', 'p99 ms', 'non-2xx'], [['GET hooks (list of 10)', ...fmt(list)], ['POST hook (create)', ...fmt(create)]]),
  '',
].join('\n');
console.log(`\n${report}`);
writeFileSync(`${ROOT}/bench/results/registry.md`, report);

await db.end();
await registry.stop();
await reset();
