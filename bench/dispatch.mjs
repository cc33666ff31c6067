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
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { connect } from 'nats';
import { build, machine, metricSum, scrapeMetrics, startService, table } from './lib.mjs';
import { account as createAccount, ADMIN_TOKEN, baseline as runBaseline, benchEnv, benchTls, eventId, fmt, loadPublisher, now, publishBurst, publishPaced, resetBench, sleep, startReceiver, summarize as summarizeSink, waitAll, waitForRegistryViews } from './stack.mjs';

await main();

async function main() {
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
  const E = benchEnv('dispatch');
  const { DATABASE_URL, NATS_URL, streamPrefix: STREAM_PREFIX } = E;
  const SUBJECT = E.subject('table.loaded');
  const OPENSSL_TRUST = process.env.BENCH_TRUST === 'openssl';
  const reset = () => resetBench(E);

  // TLS: a throwaway CA, the only extra one the dispatcher needs (it talks to this receiver only).
  const tls = benchTls('posthooks-bench-dispatch-tls');
  // Receiver: one sink per first path segment (/a/3 -> sink "a"), answering 200 at once.
  const receiver = await startReceiver(tls);
  const { sinks, sink } = receiver;

  build();
  await reset();
  let registry;
  let dispatcher;
  let nc;
  const cleanup = async () => {
    await nc?.close().catch(() => undefined);
    await dispatcher?.stop();
    await registry?.stop();
    receiver.close();
    await reset();
  };
  process.once('SIGINT', () => cleanup().finally(() => process.exit(130)));
  try {
    const common = { NODE_ENV: 'test', DATABASE_URL, NATS_URL, NATS_NAMESPACE: E.namespace, LOG_LEVEL: 'warn', ALLOW_PRIVATE_TARGETS: 'true' };
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
    const account = async (name, hooks) => (await createAccount(registry.url, receiver, name, hooks)).id;
    const accounts = { w: await account('w', 1), a: await account('a', A_HOOKS), b: await account('b', 1), c: await account('c', 1) };

    // The dispatcher learns hooks from REGISTRY: wait until its view has applied them all.
    await waitForRegistryViews(registry, { dispatcher }, jsm, STREAM_PREFIX);

    const { published, publish } = loadPublisher(js, SUBJECT);
    const settle = async () => {
      // Let the tail of a scenario (the last transactions, retries) finish before the next.
      await sleep(1000);
    };

    /** Rate and percentiles of a sink, latency = receipt - publish of the event. */
    const summarize = (s, opts) => summarizeSink(s, published, opts);
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
      const publishSeconds = await publishBurst(publish, { prefix: 'b', events: EVENTS, clientId: accounts.b, inFlight: PUBLISH_IN_FLIGHT });
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
      await publishPaced(publish, { prefix: 'c', rate: C_RATE, seconds: C_SECONDS, clientId: accounts.c });
      const complete = await waitAll(s, 30_000);
      results.c = summarize(s, { started, complete });
      samples.c = [before, await snapshotAfter()];
      await settle();
    }

    // Baseline: the same bodies (a B body with a same-length event id), same headers, same receiver.
    const sampleBody = sinks.get('b').sampleBody ?? sinks.get('w').sampleBody;
    const baseline = (name, inWorker, viaSender) => runBaseline(receiver, published, { name, total: EVENTS, sampleBody, secretOf: '/b/1', perHost: PER_HOST, inWorker, viaSender, eventId });
    results.x = await baseline('x', true);
    results.y = await baseline('y', false);
    results.z = await baseline('z', true, true);

    // Report. Duplicates are counted until now: a redelivery would come late.
    for (const k of ['a', 'b', 'c', 'x', 'y', 'z']) results[k].duplicates = sinks.get(k).duplicates;
    const f = fmt;
    // The limit: the better of the two bare-client runs (they differ by noise more than by design).
    const limit = Math.max(results.x.rate, results.y.rate);
    const row = (label, r, ratio = true) => [label, `${r.deliveries}${r.complete ? '' : ` of ${r.expected} (INCOMPLETE)`}`, f(r.seconds, 2), f(r.rate, 0), f(r.p50, 2), f(r.p99, 2), ratio ? `${f((100 * r.rate) / limit, 1)}%` : '— (paced)', r.missing, r.duplicates];
    const rows = [
      row(`A: 1 event x ${A_HOOKS} hooks, ${A_EVENTS} times (${A_IN_FLIGHT} events in flight)`, results.a),
      row(`B: ${EVENTS.toLocaleString('en')} events x 1 hook (${PUBLISH_IN_FLIGHT} publishes in flight)`, results.b),
      row(`C: ${C_RATE} events/s x 1 hook for ${C_SECONDS} s`, results.c, false),
      row(`baseline: bare HTTPS keep-alive client, ${PER_HOST} in flight (own thread)`, results.x),
      row(`baseline, client on the receiver's thread`, results.y),
      row(`the dispatcher's WebhookSender alone (axios), ${PER_HOST} in flight (own thread): no NATS, no Postgres`, results.z),
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
