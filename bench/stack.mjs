// What the delivery benches share: their own database and NATS namespace, the services as
// processes, an HTTPS receiver with a throwaway CA (one sink per first path segment), the
// bare Node HTTPS client (the baseline), accounts and hooks through the registry's API,
// waiting for the services' registry views, an SMTP sink, and RSS sampling.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { build, load, machine, metricSum, percentile, request, scrapeMetrics, startService } from './lib.mjs';
import { keepAliveClient } from './keep-alive-client.mjs';

/** Milliseconds on the process-wide monotonic clock: the same in the worker thread. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdefgh';

/** Standard Webhooks signature, as the dispatcher computes it (libs/webhooks/src/signature.ts). */
export function sign(id, timestamp, body, secret) {
  return `v1,${createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

/**
 * The bare client: `total` POSTs of `bodies[i]` with the three webhook headers, signed
 * per request like the dispatcher does, `concurrency` in flight over one keep-alive agent
 * of `maxSockets` sockets. Returns the absolute send time of each request.
 */
export async function bareClient({ url, ca, bodies, secret, concurrency, maxSockets, viaSender, caPath }) {
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca });
  const sentAt = new Float64Array(bodies.length);
  let next = 0;
  let failed = 0;
  const post = viaSender ? senderPost({ url, bodies, secret, maxSockets, caPath, sentAt, fail: () => failed++ }) : (i) =>
    new Promise((resolve) => {
      const body = bodies[i];
      const id = `msg_${randomBytes(16).toString('hex')}`;
      const timestamp = Math.floor(Date.now() / 1000);
      sentAt[i] = now();
      const req = https.request(url, {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'posthooks/0.1.0',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sign(id, timestamp, body, secret),
        },
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume().on('end', resolve);
      });
      req.on('error', () => (failed++, resolve()));
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) await post(next++);
    }),
  );
  agent.destroy();
  return { sentAt, failed };
}

/**
 * The dispatcher's own WebhookSender (axios, axios-retry, the SSRF-guarded agent, signing)
 * posting alone, without NATS or Postgres: the ceiling of the HTTP client it is built on.
 */
function senderPost({ url, bodies, secret, maxSockets, caPath, sentAt, fail }) {
  process.env.NODE_EXTRA_CA_CERTS = caPath; // read by the sender's trusted context
  const require = createRequire(import.meta.url);
  const { WebhookSender } = require('../dist/apps/dispatcher/src/delivery/webhook-sender.js');
  const sender = new WebhookSender({ timeoutMs: 30_000, allowPrivateTargets: true, userAgent: 'posthooks/0.1.0', maxSocketsPerHost: maxSockets });
  return async (i) => {
    sentAt[i] = now();
    const r = await sender.send({ url, webhookId: `msg_${randomBytes(16).toString('hex')}`, body: bodies[i], secrets: [secret] });
    if (!r.ok) fail();
  };
}

/** The bare client on its own thread (its own core), as the dispatcher has its own process. */
export function bareClientInWorker(job) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { bareClient: job } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}
if (!isMainThread && workerData?.bareClient) {
  const result = await bareClient(workerData.bareClient);
  parentPort.postMessage(result, [result.sentAt.buffer]);
}

/** Names of a bench's own database and NATS namespace (`posthooks_bench_<name>`, `bench_<name>`). */
export function benchEnv(name) {
  const server = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
  const dbName = `posthooks_bench_${name}`;
  const namespace = `bench_${name}`;
  return { server, dbName, DATABASE_URL: `${server}/${dbName}`, NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', namespace, streamPrefix: `${namespace.toUpperCase()}_`, subject: (s) => `${namespace}.${s}` };
}

/** Drops the bench's database and its streams. */
export async function resetBench({ server, dbName, NATS_URL, streamPrefix }) {
  const { default: pg } = await import('pg');
  const { connect } = await import('nats');
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(streamPrefix)) await jsm.streams.delete(s.config.name);
  await nc.close();
}

/** A throwaway CA and a certificate of it for localhost (made once per directory). */
export function benchTls(dir) {
  const require = createRequire(import.meta.url);
  const { createThrowawayCa } = require('../libs/testing/src/tls/throwaway-ca.js');
  return createThrowawayCa(join(os.tmpdir(), dir));
}

/**
 * The HTTPS receiver: one sink per first path segment (/a/3 -> sink "a"). A sink answers
 * 200 at once unless it has a `reply(eventId, webhookId, attempt)` that returns another
 * status. Only 2xx answers count as deliveries (`ids`); the others as `failedAttempts`.
 */
export async function startReceiver(tls) {
  const sinks = new Map();
  const secrets = new Map(); // path -> whsec of the hook posting there
  function sink(name, expected, reply) {
    const s = { name, expected, reply, first: [], ids: new Set(), attempts: new Map(), failedAttempts: 0, duplicates: 0, unsigned: 0, badSignature: 0, stray: 0, perEvent: new Map(), waiters: new Map(), sampleBody: undefined };
    sinks.set(name, s);
    return s;
  }
  function check(s, req, body) {
    const h = req.headers;
    const id = h['webhook-id'];
    if (!id || !h['webhook-timestamp'] || !h['webhook-signature']) s.unsigned++;
    const secret = secrets.get(req.url);
    if (secret && id && !String(h['webhook-signature']).split(' ').includes(sign(id, Number(h['webhook-timestamp']), body, secret))) s.badSignature++;
    return id;
  }
  function record(s, at, id, body) {
    if (s.ids.has(id)) return void s.duplicates++;
    s.ids.add(id);
    let eventId;
    try {
      eventId = JSON.parse(body).event_id;
    } catch {
      return void s.stray++;
    }
    s.sampleBody ??= body;
    s.first.push({ at, eventId });
    const n = (s.perEvent.get(eventId) ?? 0) + 1;
    s.perEvent.set(eventId, n);
    const w = s.waiters.get(eventId);
    if (w && n >= w.need) {
      s.waiters.delete(eventId);
      w.resolve(true);
    }
  }
  /** The status a sink with a `reply` gives this attempt (the n-th request of its webhook-id). */
  function status(s, id, body) {
    const attempt = (s.attempts.get(id) ?? 0) + 1;
    s.attempts.set(id, attempt);
    let eventId;
    try {
      eventId = JSON.parse(body).event_id;
    } catch {
      return 200;
    }
    return s.reply(eventId, id, attempt);
  }
  const server = https.createServer({ cert: readFileSync(tls.trusted.cert), key: readFileSync(tls.trusted.key), keepAlive: true }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const s = sinks.get(req.url.split('/')[1]);
      const body = Buffer.concat(chunks).toString('utf8');
      const code = s?.reply ? status(s, req.headers['webhook-id'], body) : 200;
      res.writeHead(code, { 'content-type': 'text/plain', 'content-length': '2' }).end(code === 200 ? 'ok' : 'no');
      if (!s) return;
      const id = check(s, req, body);
      if (code === 200) record(s, at, id, body);
      else s.failedAttempts++;
    });
  });
  // Idle sockets stay open between scenarios (Node's default 5 s would make each
  // scenario start with fresh TLS handshakes and the keep-alive close race).
  server.keepAliveTimeout = 120_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port,
    sinks,
    secrets,
    sink,
    ca: tls.ca,
    hookUrl: (path) => `https://localhost:${port}${path}`,
    close: () => (server.closeAllConnections(), server.close()),
  };
}

/** Resolves true once `s` has `s.expected` deliveries, false after `timeoutMs`. */
export async function waitAll(s, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (s.ids.size < s.expected && Date.now() < deadline) await sleep(20);
  return s.ids.size >= s.expected;
}

/** Polls `test` until it returns something truthy, and returns that. */
export async function waitUntil(what, test, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Rate and percentiles of a sink, latency = receipt - publish of the event (`published`: event id -> time). */
export function summarize(s, published, { started, complete }) {
  const lat = Float64Array.from(s.first, (r) => r.at - published.get(r.eventId)).sort();
  const last = s.first.reduce((m, r) => Math.max(m, r.at), started);
  const seconds = (last - started) / 1000;
  return { deliveries: s.ids.size, expected: s.expected, seconds, rate: s.ids.size / seconds, p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99), max: lat[lat.length - 1], missing: s.expected - s.ids.size, duplicates: s.duplicates, unsigned: s.unsigned + s.badSignature + s.stray, complete };
}

/**
 * The baseline: `total` copies of `sampleBody` (its event id replaced by `<name>-<i>`)
 * posted by the bare client to sink `name` with the secret of `secretOf` (a path), as
 * `perHost` in flight. Returns the summary of sink `name`, latency = sent -> received.
 */
export async function baseline(receiver, published, { name, total, sampleBody, secretOf, perHost, inWorker, viaSender, eventId }) {
  const s = receiver.sink(name, total);
  const path = `/${name}/1`;
  receiver.secrets.set(path, receiver.secrets.get(secretOf));
  const sampleEvent = JSON.parse(sampleBody).event_id;
  const bodies = Array.from({ length: total }, (_, i) => sampleBody.replace(`"event_id":"${sampleEvent}"`, `"event_id":"${eventId(name, i)}"`));
  const job = { url: receiver.hookUrl(path), ca: readFileSync(receiver.ca, 'utf8'), bodies, secret: receiver.secrets.get(path), concurrency: perHost, maxSockets: perHost, viaSender, caPath: receiver.ca };
  const { sentAt, failed } = inWorker ? await bareClientInWorker(job) : await bareClient(job);
  sentAt.forEach((t, i) => published.set(eventId(name, i), t));
  const complete = await waitAll(s, 10_000);
  return { ...summarize(s, published, { started: sentAt[0], complete }), failed };
}

/** The registry's API as a customer uses it: POST `path` with `token`, expecting `status`. */
export async function api(registryUrl, path, token, body, status) {
  const res = await request(`${registryUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body);
}

/**
 * An account with a destination and hooks on the receiver: `hooks` is a number n (paths
 * `/<name>/1..n`) or a list of paths. Returns { id, key, destinationId, hookIds }.
 */
export async function account(registryUrl, receiver, name, hooks) {
  const acct = await api(registryUrl, '/v1/accounts', ADMIN_TOKEN, { name: `bench ${name}`, plan: 'advanced', notification_email: `bench+${name}@example.test` }, 201);
  const dest = await api(registryUrl, '/v1/destinations', acct.api_key, { name: 'w', type: 'postgres' }, 201);
  const hookIds = [];
  const paths = typeof hooks === 'number' ? Array.from({ length: hooks }, (_, i) => `/${name}/${i + 1}`) : hooks;
  for (const path of paths) {
    const hook = await api(registryUrl, '/notifications/public/v1/api/hooks', acct.api_key, { type: 'post_load', destination_id: dest.id, config: { url: receiver.hookUrl(path) } }, 200);
    receiver.secrets.set(path, hook.secret);
    hookIds.push(hook.id);
  }
  return { id: acct.id, key: acct.api_key, destinationId: dest.id, hookIds };
}

/** Waits until the registry's outbox is empty and every service in `followers` has applied REGISTRY up to its last message. */
export async function waitForRegistryViews(registry, followers, jsm, streamPrefix) {
  await waitUntil('the registry outbox to drain', async () => {
    const m = await scrapeMetrics(registry.url);
    return m.some((s) => s.name === 'posthooks_registry_outbox_pending') && metricSum(m, 'posthooks_registry_outbox_pending') === 0;
  });
  const lastSeq = (await jsm.streams.info(`${streamPrefix}REGISTRY`)).state.last_seq;
  for (const [name, service] of Object.entries(followers)) {
    await waitUntil(`the ${name}'s view to reach REGISTRY #${lastSeq}`, async () => metricSum(await scrapeMetrics(service.url), 'posthooks_registry_view_sequence') >= lastSeq);
  }
}

/** Publishes `table.loaded` events and remembers when each was published (event id -> ms). */
export function loadPublisher(js, subject) {
  const published = new Map();
  const publish = (eventId, clientId) => {
    published.set(eventId, now());
    return js.publish(subject, JSON.stringify({ client_id: clientId, integration_name: 'bench', table_name: 't', event_id: eventId }), { msgID: eventId });
  };
  return { published, publish };
}

export const eventId = (prefix, i) => `${prefix}-${String(i).padStart(6, '0')}`;

export const SERVICES = ['hook-registry', 'ingest-gateway', 'load-simulator', 'dispatcher', 'email-notifier'];

/**
 * All five services as processes on the bench's database and namespace (the registry
 * first: it creates the database). `env` is common to all, `per[name]` added to one.
 */
export async function startStack(env, per = {}) {
  const services = { 'hook-registry': await startService('hook-registry', { ...env, ...per['hook-registry'] }) };
  const rest = await Promise.all(SERVICES.slice(1).map((name) => startService(name, { ...env, ...per[name] })));
  SERVICES.slice(1).forEach((name, i) => (services[name] = rest[i]));
  return services;
}

export function rssMb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return NaN; // the process is gone
  }
}

/** Samples the RSS of every service every `everyMs`: samples[name] = [{ at (ms), mb }]. */
export function rssSampler(services, everyMs) {
  const samples = Object.fromEntries(Object.keys(services).map((n) => [n, []]));
  const take = () => {
    for (const [name, s] of Object.entries(services)) samples[name].push({ at: now(), mb: rssMb(s.proc.pid) });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    take,
    stop: () => (clearInterval(timer), take()),
  };
}

/**
 * The whole stack for a bench named `name`: its database and NATS namespace emptied
 * (before and after), the HTTPS receiver, a real SMTP sink (libs/testing's SmtpSink),
 * a fresh build, all five services (the dispatcher trusting the receiver's CA, the
 * notifier sending to the sink, the simulator loading every second; `per[service]` adds
 * to one's environment) and a NATS connection. `close()` undoes it all, also on Ctrl-C.
 */
export async function benchStack(name, per = {}) {
  build();
  const { connect } = await import('nats');
  const E = benchEnv(name);
  const tls = benchTls(`posthooks-bench-${name}-tls`);
  const receiver = await startReceiver(tls);
  const { SmtpSink } = createRequire(import.meta.url)('../dist/libs/testing/src/smtp-sink.js');
  const smtp = await SmtpSink.start();
  await resetBench(E);
  const stack = { E, tls, receiver, smtp, services: {} };
  stack.close = async () => {
    await stack.nc?.close().catch(() => undefined);
    await Promise.all(Object.values(stack.services).map((s) => s.stop()));
    receiver.close();
    await smtp.close();
    await resetBench(E);
  };
  process.once('SIGINT', () => stack.close().finally(() => process.exit(130)));
  try {
    // INGEST_SHARE=1: the bench posts to one integration (50 × 4 MiB at once among others), so a
    // share of INGEST would measure the share, not the gateway.
    const common = { NODE_ENV: 'test', ADMIN_TOKEN, DATABASE_URL: E.DATABASE_URL, NATS_URL: E.NATS_URL, NATS_NAMESPACE: E.namespace, LOG_LEVEL: 'warn', ALLOW_PRIVATE_TARGETS: 'true', INGEST_SHARE: '1' };
    stack.services = await startStack(common, {
      ...per,
      dispatcher: { NODE_EXTRA_CA_CERTS: tls.ca, ...per.dispatcher },
      'load-simulator': { LOAD_INTERVAL_MS: '1000', ...per['load-simulator'] },
      'email-notifier': { SMTP_URL: smtp.url, ...per['email-notifier'] },
    });
    stack.nc = await connect({ servers: E.NATS_URL });
    stack.js = stack.nc.jetstream();
    stack.jsm = await stack.nc.jetstreamManager();
    stack.machine = await stackMachine(stack.nc, E.DATABASE_URL);
    return stack;
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/** The machine, with the versions of NATS (from the connection's server info) and Postgres. */
export async function stackMachine(nc, databaseUrl) {
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const version = (await db.query('SHOW server_version')).rows[0].server_version;
  // autovacuum matters to the delivery log's plans: without it, nothing analyzes the growing tables.
  const autovacuum = (await db.query('SHOW autovacuum')).rows[0].autovacuum;
  await db.end();
  return `${machine()}, NATS server ${nc.info?.version}, Postgres ${version} (autovacuum ${autovacuum})`;
}

/** Least-squares slope of y over x. */
export function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxy / sxx;
}

/** Formats a finite number with `d` decimals, anything else as a dash. */
export const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');

/** Publishes `events` events of `clientId` (ids `<prefix>-<i>`) as fast as JetStream acks them, `inFlight` awaiting their ack; returns the seconds it took. */
export async function publishBurst(publish, { prefix, events, clientId, inFlight = 256 }) {
  const started = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < events) await publish(eventId(prefix, next++), clientId);
    }),
  );
  return (now() - started) / 1000;
}

/** Publishes `rate` events/s of `clientId` for `seconds` on a fixed schedule (no waiting for acks). */
export async function publishPaced(publish, { prefix, rate, seconds, clientId }) {
  const started = now();
  const acks = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    acks.push(publish(eventId(prefix, i), clientId));
  }
  await Promise.all(acks);
}

/** An incoming-webhook integration on the gateway (retried until the gateway's view knows the destination); returns it with `post`, its URL on the gateway. */
export async function integration(gatewayUrl, key, destinationId, name, primaryKey) {
  const created = await waitUntil(`integration ${name}`, async () => {
    const res = await request(`${gatewayUrl}/v1/integrations`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ name, destination_id: destinationId, ...(primaryKey ? { primary_key: primaryKey } : {}) }) });
    return res.status === 201 && JSON.parse(res.body);
  });
  return { ...created, post: `${gatewayUrl}${new URL(created.webhook_url).pathname}` };
}

/**
 * `total` 1 KiB JSON posts (ids from `firstId`, so every body differs) to an integration,
 * 64 concurrent over 64 keep-alive connections; lib.load's result (non-202s counted,
 * p50/p99). Sent with the lean keep-alive client: node's own client took a fifth of the
 * 2 cores the gateway is measured on (see keep-alive-client.mjs).
 */
export async function kibPosts(integ, total, firstId = 0) {
  const kib = (i) => JSON.stringify({ id: i, note: 'x'.repeat(1024 - 40 - String(i).length) });
  const post = keepAliveClient(integ.post);
  try {
    return await load({ total, concurrency: 64, expectStatus: 202, makeRequest: (i) => post(kib(firstId + i)) });
  } finally {
    post.close();
  }
}

/** A destination's built-in database (issue 17), where the loader writes its rows: `<services database>_dest_<id>`. */
export function destinationDatabaseUrl(databaseUrl, destinationId) {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname}_dest_${destinationId}`;
  return url.toString();
}

/** Rows/s into Postgres: `rows` records in posts of 10,000 (4 at once), timed until all are in the integration's table. */
export async function loadRows(integ, databaseUrl, rows) {
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: destinationDatabaseUrl(databaseUrl, integ.destination_id) });
  await db.connect();
  const started = Date.now();
  await load({
    total: rows / 10_000,
    concurrency: 4,
    expectStatus: 202,
    makeRequest: (n) => request(integ.post, { method: 'POST', body: JSON.stringify(Array.from({ length: 10_000 }, (_, i) => ({ id: n * 10_000 + i, amount: i * 1.5, sku: `sku-${i}`, at: new Date().toISOString() }))) }),
  });
  const postedIn = (Date.now() - started) / 1000;
  await waitUntil('the rows in Postgres', async () => {
    const { rows: r } = await db.query(`SELECT count(*)::int AS n FROM "${integ.schema}".data`).catch(() => ({ rows: [{ n: 0 }] }));
    return r[0].n >= rows;
  }, 300_000);
  const seconds = (Date.now() - started) / 1000;
  await db.end();
  return { rows, postedIn, seconds, rate: rows / seconds };
}

/**
 * 50 concurrent 4 MiB posts (arrays of 1 KB records) to an integration, the gateway's RSS
 * sampled every 20 ms; then waits until the load-simulator has taken them in. Returns
 * lib.load's result with the gateway's `idle` and `peak` RSS (MB).
 */
export async function fourMiBPosts(integ, gatewayPid, jsm, streamPrefix) {
  const record = JSON.stringify({ payload: 'y'.repeat(1000) });
  const fourMiB = `[${Array(Math.floor((4 * 1024 * 1024 - 2) / (record.length + 1))).fill(record).join(',')}]`;
  let peak = rssMb(gatewayPid);
  const idle = peak;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(gatewayPid))), 20);
  let done = 0;
  const result = await load({ total: 50, concurrency: 50, expectStatus: 202, makeRequest: () => request(integ.post, { method: 'POST', body: fourMiB }).then((r) => (process.env.BENCH_DEBUG && console.error('big', ++done, r.status), r)) });
  clearInterval(sampler);
  // Let the loader take in those 200 MB before anything else is timed.
  await waitUntil('the loader to take in the 4 MiB posts', async () => {
    const info = await jsm.consumers.info(`${streamPrefix}INGEST`, 'load-simulator');
    return info.num_pending + info.num_ack_pending === 0;
  }, 300_000);
  return { ...result, idle, peak };
}
