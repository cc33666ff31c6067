#!/usr/bin/env node
// bench/sender: the dispatcher's WebhookSender alone (no NATS, no Postgres) against the
// bare Node HTTPS keep-alive client of bench/stack.mjs, posting the same signed bodies to
// the same receiver, 8 requests in flight, each client on its own thread. Runs are
// interleaved (bare, sender, bare, sender...) so that a noisy moment of the machine hits
// both. Prints deliveries/s, the thread's busy time per request (event-loop utilisation:
// what the client costs the dispatcher's one thread) and the ratio to the bare client.
// Usage: node bench/sender.mjs [requests=10000] [rounds=3]
//   BENCH_SENDERS="label=path.js,label2=path2.js": WebhookSender builds to compare (A/B);
//     default: this tree's dist/apps/dispatcher/src/delivery/webhook-sender.js.
//   BENCH_CPU_PROF=<dir>: each measured run writes a V8 CPU profile there, and the functions
//     with the most self time are printed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { build, machine, percentile, ROOT, table } from './lib.mjs';
import { bareClient, benchTls, fmt, startReceiver } from './stack.mjs';

const PER_HOST = 8; // DELIVERY_CONCURRENCY_PER_HOST's default, as in bench/dispatch
const WARMUP = 1000; // requests before each measured run: sockets open, code compiled

if (isMainThread) await main();
else if (workerData?.senderRun) parentPort.postMessage(await run(workerData.senderRun));

async function main() {
  const REQUESTS = Number(process.argv[2] ?? 10_000);
  const ROUNDS = Number(process.argv[3] ?? 3);
  const loadAverage = os.loadavg()[0];
  const senders = (process.env.BENCH_SENDERS ?? `WebhookSender=${join(ROOT, 'dist/apps/dispatcher/src/delivery/webhook-sender.js')}`)
    .split(',')
    .map((entry) => {
      const [label, path] = entry.split('=');
      return { label, path: resolve(path) };
    });
  const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  if (!process.env.BENCH_SENDERS) build();

  const tls = benchTls('posthooks-bench-sender-tls');
  const receiver = await startReceiver(tls);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const body = JSON.stringify(sampleBody());
  const results = []; // { client, round, ... }
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotate who goes first, so that neither always runs right after the other.
      const clients = [{ label: 'bare HTTPS client' }, ...senders];
      const order = clients.map((_, i) => clients[(i + round - 1) % clients.length]);
      for (const client of order) {
        const name = `r${round}${results.length}`;
        const path = `/${name}/1`;
        receiver.secrets.set(path, secret);
        const s = receiver.sink(name, REQUESTS);
        const profile = profileDir ? join(profileDir, `${client.label}-${round}.cpuprofile`) : undefined;
        const job = { url: receiver.hookUrl(path), caPath: receiver.ca, body, secret, requests: REQUESTS, senderPath: client.path, profile };
        const r = await inWorker(job);
        const unsigned = s.unsigned + s.badSignature + s.stray;
        if (s.ids.size !== REQUESTS + WARMUP) console.warn(`${client.label}: the receiver took ${s.ids.size} of ${REQUESTS + WARMUP} webhooks`);
        results.push({ client: client.label, round, ...r, unsigned });
        console.log(`round ${round}, ${client.label}: ${fmt(r.rate, 0)}/s, ${fmt(r.busyUs, 1)} µs busy per request${r.failed ? `, ${r.failed} failed` : ''}${unsigned ? `, ${unsigned} unsigned or badly signed` : ''}`);
      }
    }
  } finally {
    receiver.close();
  }

  const bare = results.filter((r) => r.client === 'bare HTTPS client');
  const mean = (rows, key) => rows.reduce((a, r) => a + r[key], 0) / rows.length;
  const bareOfRound = (round) => bare.find((r) => r.round === round);
  const rows = results.map((r) => [r.client, r.round, fmt(r.rate, 0), fmt(r.busyUs, 1), fmt(r.p50, 2), fmt(r.p99, 2), r.client === 'bare HTTPS client' ? '—' : fmt(r.rate / bareOfRound(r.round).rate, 2), r.failed, r.unsigned]);
  const summary = [...new Set(results.map((r) => r.client))].map((client) => {
    const mine = results.filter((r) => r.client === client);
    const ratios = mine.map((r) => r.rate / bareOfRound(r.round).rate);
    return [client, fmt(mean(mine, 'rate'), 0), `${fmt(Math.min(...mine.map((r) => r.rate)), 0)}–${fmt(Math.max(...mine.map((r) => r.rate)), 0)}`, fmt(mean(mine, 'busyUs'), 1), client === 'bare HTTPS client' ? '—' : `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`];
  });
  const report = [
    `# bench/sender — ${new Date().toISOString()}`,
    '',
    `Machine: ${machine()}. ${REQUESTS.toLocaleString('en')} POSTs per run (after ${WARMUP} warm-up ones), ${PER_HOST} in flight over ${PER_HOST} keep-alive sockets, each client on its own worker thread; the HTTPS receiver (127.0.0.1, answers 200 at once) on the main thread. Same body (${Buffer.byteLength(body)} bytes), same headers, one signing secret. Busy µs per request = the client thread's event-loop busy time / requests: what one request costs the dispatcher's thread. Ratio = deliveries/s / the bare client's in the same round. 1-minute load average before the run: ${fmt(loadAverage, 2)}.`,
    '',
    table(['client', 'round', 'deliveries/s', 'busy µs per request', 'p50 ms', 'p99 ms', 'ratio to bare', 'failed', 'unsigned'], rows),
    '',
    table(['client', 'mean deliveries/s', 'range', 'mean busy µs per request', 'ratio range'], summary),
    '',
  ];
  if (profileDir) {
    for (const { label } of [{ label: 'bare HTTPS client' }, ...senders]) {
      const profiles = Array.from({ length: ROUNDS }, (_, i) => JSON.parse(readFileSync(join(profileDir, `${label}-${i + 1}.cpuprofile`), 'utf8')));
      report.push(`Where ${label}'s thread spends its time (V8 CPU profile of the measured runs, self time):`, '', ...profileTables(profiles), '');
    }
  }
  console.log(`\n${report.join('\n')}`);
}

/** One client run on its own thread. */
function inWorker(job) {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { senderRun: job } });
    worker.once('message', (result) => {
      resolvePromise(result);
      void worker.terminate(); // its keep-alive sockets would keep it alive
    });
    worker.once('error', reject);
  });
}

/** In the worker: warm up, then time `requests` POSTs of the bare client or of a WebhookSender. */
async function run({ url, caPath, body, secret, requests, senderPath, profile }) {
  const ca = readFileSync(caPath, 'utf8');
  let post;
  if (senderPath) {
    process.env.NODE_EXTRA_CA_CERTS = caPath; // read by the sender's trusted context
    const { WebhookSender } = createRequire(import.meta.url)(senderPath);
    const sender = new WebhookSender({ timeoutMs: 30_000, allowPrivateTargets: true, userAgent: 'posthooks/0.1.0', maxSocketsPerHost: PER_HOST });
    post = async (bodies) => {
      const latencies = new Float64Array(bodies.length);
      let next = 0;
      let failed = 0;
      await Promise.all(
        Array.from({ length: PER_HOST }, async () => {
          while (next < bodies.length) {
            const i = next++;
            const t0 = performance.now();
            const r = await sender.send({ url, webhookId: `msg_${randomBytes(16).toString('hex')}`, body: bodies[i], secrets: [secret] });
            latencies[i] = performance.now() - t0;
            if (!r.ok) failed++;
          }
        }),
      );
      return { failed, latencies };
    };
  } else {
    post = async (bodies) => {
      const { failed } = await bareClient({ url, ca, bodies, secret, concurrency: PER_HOST, maxSockets: PER_HOST });
      return { failed, latencies: undefined };
    };
  }
  const bodiesOf = (prefix, n) => Array.from({ length: n }, (_, i) => body.replace('"event_id":"bench"', `"event_id":"${prefix}-${i}"`));
  await post(bodiesOf('warmup', WARMUP));
  const bodies = bodiesOf('run', requests);
  let session;
  if (profile) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const { failed, latencies } = await post(bodies);
  const seconds = (performance.now() - started) / 1000;
  const busy = performance.eventLoopUtilization(elu);
  if (session) {
    const { profile: cpuProfile } = await session.post('Profiler.stop');
    writeFileSync(profile, JSON.stringify(cpuProfile));
    session.disconnect();
  }
  const sorted = latencies?.sort();
  return { rate: requests / seconds, seconds, busyUs: (busy.active * 1000) / requests, failed, p50: sorted ? percentile(sorted, 50) : NaN, p99: sorted ? percentile(sorted, 99) : NaN };
}

/** A table.loaded webhook body of the usual size; `event_id` is replaced per request. */
function sampleBody() {
  return {
    event_type: 'table.loaded',
    event_id: 'bench',
    client_id: 1,
    version: '1.0',
    minimum_sdc_batched_at: '2026-11-24T10:00:00.000Z',
    integration_name: 'shopify',
    new_version: false,
    source_root_table_name: 'orders',
    destination_root_table_name: 'orders',
    table_version: 0,
    tables: [{ source_table_name: 'orders', destination_table_name: 'orders', num_rows: 100, num_rows_rejected: 0, max_time_extracted: null, bookmark_metadata: null }],
    sequence: 1,
  };
}

/**
 * The profiles' self time, summed over runs: by function, and by where the code lives
 * (axios, undici, node's http/tls/net internals, the sender...), as markdown tables.
 */
function profileTables(profiles) {
  const byFunction = new Map();
  const byPlace = new Map();
  let total = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const deltas = profile.timeDeltas;
    for (let i = 0; i < profile.samples.length; i++) {
      const node = nodes.get(profile.samples[i]);
      const us = deltas[i + 1] ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)') continue;
      total += us;
      const key = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
      const place = placeOf(functionName, url);
      byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    }
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => [name, `${fmt((100 * us) / total, 1)}%`]);
  return [table(['where (self time)', 'share of busy samples'], top(byPlace, 12)), '', table(['function (self time)', 'share of busy samples'], top(byFunction, 20))];
}

function shortUrl(url) {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

function placeOf(functionName, url) {
  if (!url) return functionName === '(garbage collector)' ? 'garbage collector' : functionName === '(program)' ? 'V8/native (program)' : `native: ${functionName || '(anonymous)'}`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1];
  const internal = /^node:internal\/([^/]+(?:\/[^/]+)?)/.exec(url) ?? /^node:([^/]+)/.exec(url);
  if (internal) return `node:${internal[1].replace(/\.js$/, '')}`;
  if (url.includes('/dist/')) return 'posthooks (dist)';
  if (url.includes('/bench/')) return 'bench loop';
  return url;
}
