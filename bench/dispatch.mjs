#!/usr/bin/env node
// bench/dispatch: end-to-end deliveries/s and latency (publish -> receiver) of the
// dispatcher, for 1 event x 10 hooks, 10,000 events x 1 hook and a steady 200 events/s,
// side by side with a bare Node HTTPS keep-alive client posting the same bodies to the
// same receiver (the limit on this machine). Runs hook-registry and the dispatcher as
// processes on their own database and NATS namespace; the HTTPS receiver and the load
// publisher live in this process, so publish and receipt times share one clock.
// Usage: node bench/dispatch.mjs [events=10000]
//   DELIVERY_CONCURRENCY / DELIVERY_CONCURRENCY_PER_HOST are passed on to the dispatcher.
//   BENCH_TRUST=openssl makes the dispatcher trust the receiver's CA through OpenSSL's
//   store (--use-openssl-ca, SSL_CERT_FILE) instead of NODE_EXTRA_CA_CERTS, as in
//   production where that variable is unset (the sender then passes no `ca` to its agent).
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** Milliseconds on the process-wide monotonic clock: the same in the worker thread. */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Standard Webhooks signature, as the dispatcher computes it (libs/webhooks/src/signature.ts). */
function sign(id, timestamp, body, secret) {
  return `v1,${createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

/**
 * The bare client: `total` POSTs of `bodies[i]` with the three webhook headers, signed
 * per request like the dispatcher does, `concurrency` in flight over one keep-alive agent
 * of `maxSockets` sockets. Returns the absolute send time of each request.
 */
async function bareClient({ url, ca, bodies, secret, concurrency, maxSockets }) {
  const agent = new https.Agent({ keepAlive: true, maxSockets, ca });
  const sentAt = new Float64Array(bodies.length);
  let next = 0;
  let failed = 0;
  const post = (i) =>
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

if (!isMainThread) {
  // The baseline client on its own thread (its own core), as the dispatcher has its own process.
  const result = await bareClient(workerData);
  parentPort.postMessage(result, [result.sentAt.buffer]);
} else {
  await main();
}

async function main() {
  const { connect } = await import('nats');
  const { default: pg } = await import('pg');
  const { build, machine, metricSum, percentile, request, scrapeMetrics, startService, table } = await import('./lib.mjs');
  const require = createRequire(import.meta.url);
  const { createThrowawayCa } = require('../libs/testing/src/tls/throwaway-ca.js');

  const loadAverage = os.loadavg()[0];
  const EVENTS = Number(process.argv[2] ?? 10_000);
  const A_EVENTS = 200; // repetitions of 1 event x 10 hooks
  const A_HOOKS = 10;
  const A_IN_FLIGHT = 4; // events of scenario A under way at once
  const PUBLISH_IN_FLIGHT = 256; // scenario B: JetStream publishes awaiting their ack
  const C_RATE = 200; // events/s
  const C_SECONDS = 10;
  const WARMUP_EVENTS = 300;
  const CONCURRENCY = Number(process.env.DELIVERY_CONCURRENCY ?? 64);
  const PER_HOST = Number(process.env.DELIVERY_CONCURRENCY_PER_HOST ?? 8);
  const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdefgh';
  const server = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
  const DB_NAME = 'posthooks_bench_dispatch';
  const DATABASE_URL = `${server}/${DB_NAME}`;
  const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const NAMESPACE = 'bench_dispatch';
  const STREAM_PREFIX = `${NAMESPACE.toUpperCase()}_`;
  const SUBJECT = `${NAMESPACE}.table.loaded`;
  const OPENSSL_TRUST = process.env.BENCH_TRUST === 'openssl';

  async function reset() {
    const admin = new pg.Client({ connectionString: `${server}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await admin.end();
    const nc = await connect({ servers: NATS_URL });
    const jsm = await nc.jetstreamManager();
    for await (const s of jsm.streams.list()) if (s.config.name.startsWith(STREAM_PREFIX)) await jsm.streams.delete(s.config.name);
    await nc.close();
  }

  // TLS: a throwaway CA, the only extra one the dispatcher needs (it talks to this receiver only).
  const tls = createThrowawayCa(join(os.tmpdir(), 'posthooks-bench-dispatch-tls'));

  // Receiver: one sink per first path segment (/a/3 -> sink "a"), answering 200 at once.
  const sinks = new Map();
  const secrets = new Map(); // path -> whsec of the hook posting there
  function sink(name, expected) {
    const s = { name, expected, first: [], ids: new Set(), duplicates: 0, unsigned: 0, badSignature: 0, stray: 0, perEvent: new Map(), waiters: new Map(), sampleBody: undefined };
    sinks.set(name, s);
    return s;
  }
  function record(s, at, req, body) {
    const h = req.headers;
    const id = h['webhook-id'];
    if (!id || !h['webhook-timestamp'] || !h['webhook-signature']) s.unsigned++;
    const secret = secrets.get(req.url);
    if (secret && id && !String(h['webhook-signature']).split(' ').includes(sign(id, Number(h['webhook-timestamp']), body, secret))) s.badSignature++;
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
  const receiver = https.createServer({ cert: readFileSync(tls.trusted.cert), key: readFileSync(tls.trusted.key), keepAlive: true }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' }).end('ok');
      const s = sinks.get(req.url.split('/')[1]);
      if (s) record(s, at, req, Buffer.concat(chunks).toString('utf8'));
    });
  });
  // Idle sockets stay open between scenarios (Node's default 5 s would make each
  // scenario start with fresh TLS handshakes and the keep-alive close race).
  receiver.keepAliveTimeout = 120_000;
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverPort = receiver.address().port;
  const hookUrl = (path) => `https://localhost:${receiverPort}${path}`;

  build();
  await reset();
  let registry;
  let dispatcher;
  let nc;
  const cleanup = async () => {
    await nc?.close().catch(() => undefined);
    await dispatcher?.stop();
    await registry?.stop();
    receiver.closeAllConnections();
    receiver.close();
    await reset();
  };
  process.once('SIGINT', () => cleanup().finally(() => process.exit(130)));
  try {
    const common = { NODE_ENV: 'test', DATABASE_URL, NATS_URL, NATS_NAMESPACE: NAMESPACE, LOG_LEVEL: 'warn', ALLOW_PRIVATE_TARGETS: 'true' };
    registry = await startService('hook-registry', { ...common, ADMIN_TOKEN });
    dispatcher = await startService('dispatcher', {
      ...common,
      ...(OPENSSL_TRUST
        ? { NODE_EXTRA_CA_CERTS: '', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --use-openssl-ca`.trim(), SSL_CERT_FILE: tls.ca }
        : { NODE_EXTRA_CA_CERTS: tls.ca }),
      DELIVERY_CONCURRENCY: String(CONCURRENCY),
      DELIVERY_CONCURRENCY_PER_HOST: String(PER_HOST),
    });
    nc = await connect({ servers: NATS_URL });
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();

    // Accounts and hooks through the registry's API, as a customer would make them.
    const api = async (path, token, body, status) => {
      const res = await request(`${registry.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
      if (res.status !== status) throw new Error(`POST ${path}: ${res.status} ${res.body}`);
      return JSON.parse(res.body);
    };
    async function account(name, hooks) {
      const acct = await api('/v1/accounts', ADMIN_TOKEN, { name: `bench ${name}`, plan: 'advanced', notification_email: 'bench@example.test' }, 201);
      const dest = await api('/v1/destinations', acct.api_key, { name: 'w', type: 'postgres' }, 201);
      for (let n = 1; n <= hooks; n++) {
        const path = `/${name}/${n}`;
        const hook = await api('/notifications/public/v1/api/hooks', acct.api_key, { type: 'post_load', destination_id: dest.id, config: { url: hookUrl(path) } }, 200);
        secrets.set(path, hook.secret);
      }
      return acct.id;
    }
    const accounts = { w: await account('w', 1), a: await account('a', A_HOOKS), b: await account('b', 1), c: await account('c', 1) };

    // The dispatcher learns hooks from REGISTRY: wait until its view has applied them all.
    const waitUntil = async (what, test, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await test())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    await waitUntil('the registry outbox to drain', async () => {
      const m = await scrapeMetrics(registry.url);
      return m.some((s) => s.name === 'posthooks_registry_outbox_pending') && metricSum(m, 'posthooks_registry_outbox_pending') === 0;
    });
    const lastSeq = (await jsm.streams.info(`${STREAM_PREFIX}REGISTRY`)).state.last_seq;
    await waitUntil(`the dispatcher's view to reach REGISTRY #${lastSeq}`, async () => metricSum(await scrapeMetrics(dispatcher.url), 'posthooks_registry_view_sequence') >= lastSeq);

    const published = new Map(); // event id -> absolute publish time
    const publish = (eventId, clientId) => {
      published.set(eventId, now());
      return js.publish(SUBJECT, JSON.stringify({ client_id: clientId, integration_name: 'bench', table_name: 't', event_id: eventId }), { msgID: eventId });
    };
    const eventId = (prefix, i) => `${prefix}-${String(i).padStart(6, '0')}`;
    const waitAll = async (s, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (s.ids.size < s.expected && Date.now() < deadline) await sleep(20);
      return s.ids.size >= s.expected;
    };
    const settle = async () => {
      // Let the tail of a scenario (the last transactions, retries) finish before the next.
      await sleep(1000);
    };

    /** Rate and percentiles of a sink, latency = receipt - publish of the event. */
    function summarize(s, { started, complete }) {
      const lat = Float64Array.from(s.first, (r) => r.at - published.get(r.eventId)).sort();
      const last = s.first.reduce((m, r) => Math.max(m, r.at), started);
      const seconds = (last - started) / 1000;
      return { deliveries: s.ids.size, expected: s.expected, seconds, rate: s.ids.size / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], missing: s.expected - s.ids.size, duplicates: s.duplicates, unsigned: s.unsigned + s.badSignature + s.stray, complete };
    }
    const samples = {};
    /** The dispatcher's metrics and the machine's CPU ticks, now. */
    const snapshot = async () => {
      const cpu = os.cpus().reduce((a, c) => ({ busy: a.busy + c.times.user + c.times.nice + c.times.sys + c.times.irq, all: a.all + c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle }), { busy: 0, all: 0 });
      return { metrics: await scrapeMetrics(dispatcher.url), at: now(), cpu };
    };
    // Taken a moment after the last receipt, so that the last acks are counted.
    const snapshotAfter = async () => (await sleep(200), snapshot());
    const results = {};

    // Warm-up: connections, JIT, Postgres caches.
    {
      const s = sink('w', WARMUP_EVENTS);
      await Promise.all(Array.from({ length: WARMUP_EVENTS }, (_, i) => publish(eventId('w', i), accounts.w)));
      if (!(await waitAll(s, 60_000))) console.warn(`warm-up incomplete: ${s.ids.size}/${WARMUP_EVENTS}`);
      await settle();
    }

    // A: 1 event x 10 hooks, A_EVENTS times, A_IN_FLIGHT events under way at once.
    {
      const s = sink('a', A_EVENTS * A_HOOKS);
      const before = await snapshot();
      const started = now();
      let next = 0;
      let timedOut = 0;
      await Promise.all(
        Array.from({ length: A_IN_FLIGHT }, async () => {
          while (next < A_EVENTS) {
            const id = eventId('a', next++);
            const done = new Promise((resolve) => {
              s.waiters.set(id, { need: A_HOOKS, resolve });
              setTimeout(() => {
                if (s.waiters.delete(id)) resolve(false);
              }, 10_000);
            });
            await publish(id, accounts.a);
            if (!(await done)) timedOut++;
          }
        }),
      );
      const complete = await waitAll(s, 10_000);
      results.a = { ...summarize(s, { started, complete }), timedOut };
      samples.a = [before, await snapshotAfter()];
      await settle();
    }

    // B: EVENTS events x 1 hook, published as fast as JetStream acks them.
    {
      const s = sink('b', EVENTS);
      const before = await snapshot();
      const started = now();
      let next = 0;
      await Promise.all(
        Array.from({ length: PUBLISH_IN_FLIGHT }, async () => {
          while (next < EVENTS) {
            const i = next++;
            await publish(eventId('b', i), accounts.b);
          }
        }),
      );
      const publishSeconds = (now() - started) / 1000;
      const complete = await waitAll(s, 90_000);
      results.b = { ...summarize(s, { started, complete }), publishSeconds };
      samples.b = [before, await snapshotAfter()];
      await settle();
    }

    // C: C_RATE events/s x 1 hook for C_SECONDS, on a fixed schedule (no waiting for acks).
    {
      const total = C_RATE * C_SECONDS;
      const s = sink('c', total);
      const before = await snapshot();
      const started = now();
      const acks = [];
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / C_RATE;
        const wait = due - now();
        if (wait > 1) await sleep(wait);
        acks.push(publish(eventId('c', i), accounts.c));
      }
      await Promise.all(acks);
      const complete = await waitAll(s, 30_000);
      results.c = summarize(s, { started, complete });
      samples.c = [before, await snapshotAfter()];
      await settle();
    }

    // Baseline: the same bodies (a B body with a same-length event id), same headers, same receiver.
    const sample = sinks.get('b').sampleBody ?? sinks.get('w').sampleBody;
    const sampleEvent = JSON.parse(sample).event_id;
    async function baseline(name, inWorker) {
      const s = sink(name, EVENTS);
      const path = `/${name}/1`;
      secrets.set(path, secrets.get('/b/1'));
      const bodies = Array.from({ length: EVENTS }, (_, i) => sample.replace(`"event_id":"${sampleEvent}"`, `"event_id":"${eventId(name, i)}"`));
      const job = { url: hookUrl(path), ca: readFileSync(tls.ca, 'utf8'), bodies, secret: secrets.get(path), concurrency: PER_HOST, maxSockets: PER_HOST };
      const { sentAt, failed } = inWorker
        ? await new Promise((resolve, reject) => {
            const w = new Worker(new URL(import.meta.url), { workerData: job });
            w.once('message', resolve);
            w.once('error', reject);
          })
        : await bareClient(job);
      sentAt.forEach((t, i) => published.set(eventId(name, i), t));
      const complete = await waitAll(s, 10_000);
      return { ...summarize(s, { started: sentAt[0], complete }), failed };
    }
    results.x = await baseline('x', true);
    results.y = await baseline('y', false);

    // Report. Duplicates are counted until now: a redelivery would come late.
    for (const k of ['a', 'b', 'c', 'x', 'y']) results[k].duplicates = sinks.get(k).duplicates;
    const f = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
    // The limit: the better of the two bare-client runs (they differ by noise more than by design).
    const limit = Math.max(results.x.rate, results.y.rate);
    const row = (label, r, ratio = true) => [label, `${r.deliveries}${r.complete ? '' : ` of ${r.expected} (INCOMPLETE)`}`, f(r.seconds, 2), f(r.rate, 0), f(r.p50, 2), f(r.p99, 2), ratio ? `${f((100 * r.rate) / limit, 1)}%` : '— (paced)', r.missing, r.duplicates];
    const rows = [
      row(`A: 1 event x ${A_HOOKS} hooks, ${A_EVENTS} times (${A_IN_FLIGHT} events in flight)`, results.a),
      row(`B: ${EVENTS.toLocaleString('en')} events x 1 hook (${PUBLISH_IN_FLIGHT} publishes in flight)`, results.b),
      row(`C: ${C_RATE} events/s x 1 hook for ${C_SECONDS} s`, results.c, false),
      row(`baseline: bare HTTPS keep-alive client, ${PER_HOST} in flight (own thread)`, results.x),
      row(`baseline, client on the receiver's thread`, results.y),
    ];
    const ratioB = results.b.rate / limit;
    const goalRate = results.b.complete && ratioB >= 0.6;
    const goalP99 = results.c.complete && results.c.p99 < 50;

    // Where the time goes: deltas of the dispatcher's metrics over each scenario.
    const delta = ([before, after], name, match) => metricSum(after.metrics, name, match) - metricSum(before.metrics, name, match);
    const meanMs = (m, name, match) => (1000 * delta(m, `${name}_sum`, match)) / delta(m, `${name}_count`, match);
    const timeRows = ['a', 'b', 'c'].map((k) => {
      const m = samples[k];
      const cpu = delta(m, 'process_cpu_seconds_total') / ((m[1].at - m[0].at) / 1000);
      const machineBusy = (m[1].cpu.busy - m[0].cpu.busy) / (m[1].cpu.all - m[0].cpu.all);
      const loads = { consumer: 'dispatcher' };
      const deliveries = { consumer: 'dispatcher-deliveries' };
      return [
        k.toUpperCase(),
        f(meanMs(m, 'posthooks_message_handler_seconds', loads), 2),
        f(meanMs(m, 'posthooks_message_handler_seconds', deliveries), 2),
        f(meanMs(m, 'posthooks_delivery_attempt_seconds', { outcome: 'succeeded' }), 2),
        delta(m, 'posthooks_messages_total', { ...deliveries, outcome: 'ack' }),
        delta(m, 'posthooks_messages_total', { ...deliveries, outcome: 'retry' }),
        delta(m, 'posthooks_deliveries_total', { outcome: 'retry' }),
        f(cpu, 2),
        `${f(100 * machineBusy, 0)}%`,
      ];
    });

    const unsigned = ['a', 'b', 'c', 'x', 'y'].reduce((n, k) => n + results[k].unsigned, 0);
    const report = [
      `# bench/dispatch — ${new Date().toISOString()}`,
      '',
      `Machine: ${machine()}. One hook-registry and one dispatcher process (DELIVERY_CONCURRENCY=${CONCURRENCY}, DELIVERY_CONCURRENCY_PER_HOST=${PER_HOST}; it trusts the receiver's CA through ${OPENSSL_TRUST ? "OpenSSL's store (--use-openssl-ca), NODE_EXTRA_CA_CERTS unset" : 'NODE_EXTRA_CA_CERTS'}), NATS JetStream and Postgres on the same machine; the HTTPS receiver (one Node process, 127.0.0.1, answers 200 at once) and the load-event publisher share this bench process. Latency is publish of the load event (before the JetStream ack) → receipt of the webhook's body; for the baseline, request sent → body received. Deliveries/s = deliveries / (last receipt − first publish). Every hook of the bench points at the same host:port, so the per-host limit applies to all of them. ${WARMUP_EVENTS} warm-up events first. 1-minute load average before the run: ${f(loadAverage, 2)}.`,
      '',
      table(['scenario', 'deliveries', 'seconds', 'deliveries/s', 'p50 ms', 'p99 ms', 'ratio to baseline', 'missing', 'duplicates'], rows),
      '',
      `Goals: B at ≥ 60% of the bare client: ${f(results.b.rate, 0)} / ${f(limit, 0)} = ${f(100 * ratioB, 0)}% — **${goalRate ? 'PASS' : 'MISS'}**; p99 < 50 ms at ${C_RATE} events/s: ${f(results.c.p99, 1)} ms — **${goalP99 ? 'PASS' : 'MISS'}**.`,
      '',
      `Integrity: duplicates counted by webhook-id until the end of the run; ${unsigned === 0 ? 'every request carried webhook-id, webhook-timestamp and a webhook-signature that verifies' : `${unsigned} requests unsigned, badly signed or without an event_id`}. Scenario A: ${results.a.timedOut} events not complete within 10 s. B's ${EVENTS.toLocaleString('en')} publishes were acked in ${f(results.b.publishSeconds, 2)} s; its slowest delivery took ${f(results.b.max / 1000, 2)} s.`,
      '',
      "Where the time goes (the dispatcher's /metrics, change over each scenario; means in ms):",
      '',
      table(['scenario', 'load event handler', 'delivery handler', 'HTTP attempt', 'delivery messages acked', 'delivery messages naked (retry later)', 'failed attempts', 'dispatcher CPU (cores)', 'machine CPU busy'], timeRows),
      '',
    ].join('\n');
    console.log(`\n${report}`);
    writeFileSync(new URL('./results/dispatch.md', import.meta.url), report);
  } finally {
    await cleanup();
  }
}
