#!/usr/bin/env node
// bench/soak: the whole stack (five services as processes, own database and NATS
// namespace, a real SMTP sink) under a steady load for SOAK_MINUTES (default 10):
// half the maximum delivery rate of `table.loaded` events to 3 hooks each (one receiver
// fails 10% of first attempts, and always fails 1 event in 2,000, so retries and
// undeliverable emails happen), plus incoming-webhook posts at a steady rate. Samples
// every service's RSS every 10 s, queries the delivery log every 30 s, and at the end
// checks that every delivery arrived. Writes bench/results/soak.md.
// Usage: node bench/soak.mjs [max deliveries/s]   (without it, a short burst measures it)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { metricSum, percentile, request, scrapeMetrics, table } from './lib.mjs';
import {
  account,
  benchStack,
  destinationDatabaseUrl,
  eventId,
  fmt,
  integration,
  loadPublisher,
  now,
  publishBurst,
  rssSampler,
  sleep,
  slope,
  summarize,
  waitAll,
  waitForRegistryViews,
  waitUntil,
} from './stack.mjs';

const startedAt = new Date();
const loadAverage = os.loadavg()[0];
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const GIVEN_MAX = process.argv[2] ? Number(process.argv[2]) : undefined;
const HOOKS_PER_EVENT = 3;
const BURST_EVENTS = 4000; // the short burst that measures the maximum rate
const UNDELIVERABLE_EVERY = 2000; // event i with i % 2000 == 7 always fails at hook f
const FIRST_FAIL_EVERY = 10; // event i with i % 10 == 3 fails its first attempt at hook f
const POSTS_PER_SECOND = 10; // incoming-webhook posts, 10 records each
const RECORDS_PER_POST = 10;
const RSS_EVERY_MS = 10_000;
const LOG_EVERY_MS = 30_000;
const FLAT_MB_PER_MIN = 1;
const K8S_LIMIT_MB = { 'hook-registry': 384, 'ingest-gateway': 512, 'load-simulator': 512, dispatcher: 512, 'email-notifier': 256 }; // k8s/base
const groupBy = (list, key) => list.reduce((g, x) => ((g[key(x)] ??= []).push(x), g), {});

const indexOf = (id) => Number(/-(\d+)$/.exec(id)?.[1] ?? -1);
const alwaysFails = (i) => i % UNDELIVERABLE_EVERY === 7;

const stack = await benchStack('soak', { dispatcher: { DELIVERY_RETRY_SCHEDULE: '1s,2s,2s,2s,2s' }, 'email-notifier': { EMAIL_DIGEST_WINDOW_MS: '60000' } });
const { E, receiver, smtp, services, js, jsm, nc } = stack;
try {
  const { 'hook-registry': registry, 'ingest-gateway': gateway, dispatcher, 'email-notifier': notifier } = services;
  const rss = rssSampler(services, RSS_EVERY_MS);

  const accounts = {
    w: await account(registry.url, receiver, 'w', 1),
    m: await account(registry.url, receiver, 'm', 1),
    s: await account(registry.url, receiver, 's', ['/s/1', '/s/2', '/f/1']),
    i: await account(registry.url, receiver, 'i', 1),
  };
  const ingest = await integration(gateway.url, accounts.i.key, accounts.i.destinationId, 'soak', 'id');
  await waitForRegistryViews(registry, { dispatcher, 'email-notifier': notifier }, jsm, E.streamPrefix);
  const { published, publish } = loadPublisher(js, E.subject('table.loaded'));

  // Load events of account i come from the load-simulator: count them on the subject.
  let simulatorEvents = 0;
  const sub = nc.subscribe(E.subject('table.loaded'));
  (async () => {
    for await (const m of sub) if (JSON.parse(new TextDecoder().decode(m.data)).client_id === accounts.i.id) simulatorEvents++;
  })();

  /** `events` events x 1 hook of `name`, as fast as JetStream acks them. */
  async function burst(name, events) {
    const s = receiver.sink(name, events);
    const started = now();
    await publishBurst(publish, { prefix: name, events, clientId: accounts[name].id });
    const complete = await waitAll(s, 120_000);
    return summarize(s, published, { started, complete });
  }
  await burst('w', 300); // warm-up
  let maxRate = GIVEN_MAX;
  let burstResult;
  if (!maxRate) {
    burstResult = await burst('m', BURST_EVENTS);
    maxRate = burstResult.rate;
  }
  await sleep(1000);
  const eventsPerSecond = maxRate / 2 / HOOKS_PER_EVENT;
  console.error(`max ${fmt(maxRate, 0)} deliveries/s; soak at ${fmt(eventsPerSecond, 1)} events/s x ${HOOKS_PER_EVENT} hooks for ${MINUTES} min`);

  // The soak.
  const sS = receiver.sink('s', 0);
  const sF = receiver.sink('f', 0, (id, _webhookId, attempt) => {
    const i = indexOf(id);
    if (i < 0) return 200;
    return alwaysFails(i) || (i % FIRST_FAIL_EVERY === 3 && attempt === 1) ? 503 : 200;
  });
  const sI = receiver.sink('i', 0);
  const ingestPath = ingest.post;
  const posts = { sent: 0, accepted: 0, other: {}, latencies: [] };
  const logQueries = [];
  const backlog = [];
  const crashes = [];
  let events = 0;
  let publishErrors = 0;
  const soakStart = now();
  const soakEnd = soakStart + MINUTES * 60_000;
  const loadAverages = [];

  const publisher = (async () => {
    const pending = new Set();
    while (now() < soakEnd) {
      const due = Math.floor(((now() - soakStart) / 1000) * eventsPerSecond);
      while (events < due) {
        const p = publish(eventId('s', events++), accounts.s.id).catch(() => publishErrors++);
        pending.add(p);
        p.finally(() => pending.delete(p));
      }
      await sleep(20);
    }
    await Promise.all(pending);
  })();
  const poster = (async () => {
    let n = 0;
    while (now() < soakEnd) {
      const due = Math.floor(((now() - soakStart) / 1000) * POSTS_PER_SECOND);
      while (n < due) {
        const base = n++ * RECORDS_PER_POST;
        const body = JSON.stringify(Array.from({ length: RECORDS_PER_POST }, (_, k) => ({ id: base + k, amount: k * 1.5, sku: `sku-${k}`, note: 'x'.repeat(64) })));
        const t0 = now();
        posts.sent++;
        request(ingestPath, { method: 'POST', body }).then(
          (r) => (r.status === 202 ? posts.accepted++ : (posts.other[r.status] = (posts.other[r.status] ?? 0) + 1), posts.latencies.push(now() - t0)),
          (e) => (posts.other[e.code ?? 'error'] = (posts.other[e.code ?? 'error'] ?? 0) + 1),
        );
      }
      await sleep(20);
    }
  })();
  const pendingOf = async (stream) => {
    let n = 0;
    for await (const c of jsm.consumers.list(`${E.streamPrefix}${stream}`)) n += c.num_pending + c.num_ack_pending;
    return n;
  };
  const monitor = (async () => {
    let nextLog = soakStart + LOG_EVERY_MS;
    let nextSample = soakStart + RSS_EVERY_MS;
    while (now() < soakEnd) {
      await sleep(250);
      for (const [name, s] of Object.entries(services)) if (s.proc.exitCode !== null && !crashes.includes(name)) crashes.push(name);
      if (now() >= nextSample) {
        nextSample += RSS_EVERY_MS;
        loadAverages.push(os.loadavg()[0]);
        backlog.push({ at: now(), loads: await pendingOf('LOADS').catch(() => NaN), deliveries: await pendingOf('DELIVERIES').catch(() => NaN) });
      }
      if (now() >= nextLog) {
        nextLog += LOG_EVERY_MS;
        for (const [label, hookId, query] of [
          ['hook s/1, newest 50', accounts.s.hookIds[0], 'limit=50'],
          ['hook f/1, status=failed', accounts.s.hookIds[2], 'status=failed&limit=50'],
        ]) {
          const t0 = now();
          const r = await request(`${dispatcher.url}/v1/hooks/${hookId}/deliveries?${query}`, { headers: { authorization: `Bearer ${accounts.s.key}` } }).catch((e) => ({ status: e.code, body: '' }));
          const ms = now() - t0;
          const rows = r.status === 200 ? JSON.parse(r.body).data.length : 0;
          logQueries.push({ label, minute: (t0 - soakStart) / 60_000, ms, status: r.status, rows });
        }
        const last = logQueries.slice(-2);
        console.error(`${fmt((now() - soakStart) / 60_000, 1)} min: ${events} events, ${sS.ids.size + sF.ids.size + sI.ids.size} deliveries, backlog ${JSON.stringify(backlog.at(-1))}, RSS ${Object.entries(rss.samples).map(([n, v]) => `${n} ${fmt(v.at(-1).mb, 0)}`).join(', ')}, log ${last.map((q) => `${q.status} ${fmt(q.ms, 0)} ms`).join(' / ')}`);
      }
    }
  })();
  await Promise.all([publisher, poster, monitor]);
  const publishedSeconds = (now() - soakStart) / 1000;

  // Drain: every delivery in, every undeliverable recorded, every email sent.
  const undeliverable = Array.from({ length: events }, (_, i) => i).filter(alwaysFails).length;
  sS.expected = 2 * events; // hooks s/1 and s/2
  sF.expected = events - undeliverable;
  const drainStart = now();
  await Promise.all([waitAll(sS, 180_000), waitAll(sF, 180_000)]);
  // The simulator flushes every second: wait until its last load events are in.
  await waitUntil('the ingest backlog', async () => (await pendingOf('INGEST')) === 0, 60_000).catch(() => undefined);
  await sleep(2000);
  sI.expected = simulatorEvents;
  await waitAll(sI, 60_000);
  const undeliverableEvents = async () => metricSum(await scrapeMetrics(notifier.url), 'posthooks_undeliverable_events_total');
  await waitUntil('the undeliverable events', async () => (await undeliverableEvents()) >= undeliverable, 60_000).catch(() => undefined);
  // Digests go out when their 60 s window ends.
  await waitUntil('the email outbox', async () => metricSum(await scrapeMetrics(notifier.url), 'posthooks_emails_waiting') === 0, 150_000).catch(() => undefined);
  const drainSeconds = (now() - drainStart) / 1000;
  rss.stop();
  const notifierMetrics = await scrapeMetrics(notifier.url);
  const dispatcherMetrics = await scrapeMetrics(dispatcher.url);
  const db = new pg.Client({ connectionString: E.DATABASE_URL });
  await db.connect();
  const { rows: attemptRows } = await db.query('SELECT count(*)::int AS n FROM dispatcher.attempts');
  await db.end();
  // The rows are in the destination's own database (issue 17).
  const destinationDb = new pg.Client({ connectionString: destinationDatabaseUrl(E.DATABASE_URL, ingest.destination_id) });
  await destinationDb.connect();
  const { rows: loaded } = await destinationDb.query(`SELECT count(*)::int AS n FROM "${ingest.schema}".data`);
  await destinationDb.end();

  // Report.
  const soakMinutes = MINUTES;
  const secondHalf = (pts) => pts.filter((p) => p.at >= soakStart + (soakEnd - soakStart) / 2 && p.at <= soakEnd);
  const minuteOf = (p) => Math.floor((p.at - soakStart) / 60_000);
  const rssRows = Object.entries(rss.samples).map(([name, pts]) => {
    const mbs = pts.map((p) => p.mb);
    const during = pts.filter((p) => p.at <= soakEnd);
    const half = secondHalf(pts);
    const mbPerMin = slope(half.map((p) => ({ x: (p.at - soakStart) / 60_000, y: p.mb })));
    // The floor: each minute's lowest sample (after a collection); a leak raises it, the GC sawtooth does not.
    const floors = Object.entries(groupBy(half, minuteOf)).map(([m, l]) => ({ x: Number(m), y: Math.min(...l.map((p) => p.mb)) }));
    const floorPerMin = slope(floors);
    const end = mbs.at(-1);
    const maxDuring = Math.max(...during.map((p) => p.mb));
    const hoursToLimit = mbPerMin > 0 ? (K8S_LIMIT_MB[name] - maxDuring) / mbPerMin / 60 : Infinity;
    const verdict = mbPerMin < FLAT_MB_PER_MIN ? 'flat' : floorPerMin < FLAT_MB_PER_MIN && end <= mbs[0] + 10 ? 'flat (sawtooth: floor flat, memory returned after the drain)' : '**GROWING**';
    return [name, fmt(mbs[0], 0), fmt(Math.min(...mbs), 0), fmt(maxDuring, 0), fmt(during.at(-1).mb, 0), fmt(end, 0), fmt(mbPerMin, 2), fmt(floorPerMin, 2), Number.isFinite(hoursToLimit) ? fmt(hoursToLimit, 0) : '—', verdict];
  });
  // Each minute's median RSS per service, and after the drain.
  const minutes = Array.from({ length: Math.ceil(MINUTES) }, (_, m) => m);
  const minuteRows = Object.entries(rss.samples).map(([name, pts]) => {
    const byMinute = groupBy(pts.filter((p) => p.at >= soakStart && p.at <= soakEnd), minuteOf);
    const median = (l) => (l ? percentile(l.map((p) => p.mb).sort((x, y) => x - y), 50) : NaN);
    return [name, ...minutes.map((m) => fmt(median(byMinute[m]), 0)), fmt(pts.at(-1).mb, 0)];
  });
  const byLabel = groupBy(logQueries, (q) => q.label);
  const logRows = Object.entries(byLabel).map(([label, qs]) => {
    const ms = qs.map((q) => q.ms).sort((a, b) => a - b);
    const statuses = Object.entries(groupBy(qs, (q) => q.status)).map(([st, l]) => `${st} × ${l.length}`).join(', ');
    return [label, qs.length, fmt(percentile(ms, 50), 1), fmt(ms.at(-1), 1), `${fmt(qs[0].ms, 1)} → ${fmt(qs.at(-1).ms, 1)}`, statuses, qs.every((q) => q.status === 200) ? 'PASS' : 'MISS'];
  });
  const summaries = { s: summarize(sS, published, { started: soakStart, complete: sS.ids.size >= sS.expected }), f: summarize(sF, published, { started: soakStart, complete: sF.ids.size >= sF.expected }) };
  const lost = [sS, sF, sI].reduce((n, s) => n + Math.max(0, s.expected - s.ids.size), 0);
  const deliveryRows = [
    ['s/1, s/2 (always 200)', sS.expected, sS.ids.size, sS.expected - sS.ids.size, sS.duplicates, sS.failedAttempts, fmt(summaries.s.p50, 1), fmt(summaries.s.p99, 1), fmt(summaries.s.max, 0)],
    [`f/1 (503 on 1st attempt of 1 event in ${FIRST_FAIL_EVERY}; always for 1 in ${UNDELIVERABLE_EVERY})`, sF.expected, sF.ids.size, sF.expected - sF.ids.size, sF.duplicates, sF.failedAttempts, fmt(summaries.f.p50, 1), fmt(summaries.f.p99, 1), fmt(summaries.f.max, 0)],
    [`i/1 (the load-simulator's ${simulatorEvents} table.loaded events)`, sI.expected, sI.ids.size, sI.expected - sI.ids.size, sI.duplicates, sI.failedAttempts, '—', '—', '—'],
  ];
  const emailsSent = metricSum(notifierMetrics, 'posthooks_emails_total', { outcome: 'sent' });
  const undeliverableSeen = metricSum(notifierMetrics, 'posthooks_undeliverable_events_total');
  const postLat = posts.latencies.sort((a, b) => a - b);
  const maxBacklog = backlog.reduce((m, b) => ({ loads: Math.max(m.loads, b.loads), deliveries: Math.max(m.deliveries, b.deliveries) }), { loads: 0, deliveries: 0 });
  const flatAll = rssRows.every((r) => r[9].startsWith('flat'));
  const logOk = logRows.every((r) => r[6] === 'PASS');
  const report = [
    `# bench/soak — ${startedAt.toISOString()}`,
    '',
    `Machine: ${stack.machine}. All five services as separate processes (flags as in docker/Dockerfile), NATS JetStream and Postgres on the same machine, the HTTPS receiver, the SMTP sink (smtp-server) and the load generators in the bench process. 1-minute load average at the start: ${fmt(loadAverage, 2)}; during the soak (every 10 s) mean ${fmt(loadAverages.reduce((a, b) => a + b, 0) / loadAverages.length, 2)}, max ${fmt(Math.max(...loadAverages), 2)}.`,
    '',
    `Load: maximum delivery rate ${fmt(maxRate, 0)} deliveries/s (${GIVEN_MAX ? 'given' : `a burst of ${BURST_EVENTS} events x 1 hook after 300 warm-up events, p99 ${fmt(burstResult.p99, 0)} ms`}); the soak drove half of it for ${soakMinutes} min: ${fmt(eventsPerSecond, 1)} table.loaded events/s x ${HOOKS_PER_EVENT} hooks = ${fmt(eventsPerSecond * HOOKS_PER_EVENT, 0)} deliveries/s (${events.toLocaleString('en')} events, ${publishErrors} publish errors), plus ${POSTS_PER_SECOND} incoming-webhook posts/s of ${RECORDS_PER_POST} records (${posts.sent.toLocaleString('en')} posts: ${posts.accepted.toLocaleString('en')} × 202${Object.keys(posts.other).length ? `, others ${JSON.stringify(posts.other)}` : ''}; p50 ${fmt(percentile(postLat, 50), 1)} ms, p99 ${fmt(percentile(postLat, 99), 1)} ms; ${loaded[0].n.toLocaleString('en')} of ${(posts.accepted * RECORDS_PER_POST).toLocaleString('en')} records in Postgres at the end). DELIVERY_RETRY_SCHEDULE=1s,2s,2s,2s,2s, EMAIL_DIGEST_WINDOW_MS=60000, LOAD_INTERVAL_MS=1000. Backlog (pending + unacked, sampled every 10 s): LOADS max ${maxBacklog.loads}, DELIVERIES max ${maxBacklog.deliveries}, at the end of the soak ${backlog.at(-1)?.loads} / ${backlog.at(-1)?.deliveries}. Drain after the soak: ${fmt(drainSeconds, 0)} s (includes waiting for the last digest window).${crashes.length ? ` **Services that exited during the run: ${crashes.join(', ')}.**` : ''}`,
    '',
    `## RSS (MB), sampled every 10 s; slope = least squares over the second half of the soak`,
    '',
    table(['service', 'start', 'min', 'max during the soak', 'end of the soak', 'after the drain', 'slope MB/min', 'floor slope MB/min', 'hours to k8s limit at that slope', 'verdict'], rssRows),
    '',
    'Median RSS (MB) per minute of the soak:',
    '',
    table(['service', ...minutes.map((m) => `${m}-${m + 1}`), 'after the drain'], minuteRows),
    '',
    `"flat" = slope < ${FLAT_MB_PER_MIN} MB/min, i.e. less than ${(FLAT_MB_PER_MIN * soakMinutes) / 2} MB over the ${soakMinutes / 2} minutes of the second half: within what a V8 heap swings between collections at this load, while a real leak of ≥ 1 MB/min (1.4 GB a day) would take the smallest pod (email-notifier, 256 MiB limit) to its limit within hours. RSS is a sawtooth (the heap grows until a collection, and V8 gives memory back late), so a slope over the ${soakMinutes / 2} minutes (${Math.round((soakMinutes * 3))} samples) can be steep by where the teeth fall; a service above the bar still counts as flat when the floor (each minute's lowest sample) has a slope under the bar and its RSS is back within 10 MB of the start after the drain. Start = right after the services became ready, before any load; the drain is the wait after the last event for the last deliveries and emails. Verdict: **${flatAll ? 'PASS' : 'MISS'}**.`,
    '',
    `## Delivery log (GET /v1/hooks/{id}/deliveries, account key), every 30 s`,
    '',
    table(['query', 'queries', 'p50 ms', 'max ms', 'first → last ms', 'statuses', 'all 200'], logRows),
    '',
    `## Deliveries (publish → receipt of the first 2xx, ms)`,
    '',
    table(['sink', 'expected', 'received', 'lost', 'duplicates', 'non-2xx answers', 'p50 ms', 'p99 ms', 'max ms'], deliveryRows),
    '',
    `Zero lost: **${lost === 0 ? 'PASS' : `MISS (${lost} lost)`}**. Undeliverable: ${undeliverable} expected (events ${UNDELIVERABLE_EVERY}k+7 at f/1), the email-notifier recorded ${undeliverableSeen} (${['emailed', 'folded', 'opted_out', 'duplicate'].map((o) => `${o} ${metricSum(notifierMetrics, 'posthooks_undeliverable_events_total', { outcome: o })}`).join(', ')}); emails: ${emailsSent} sent by the notifier (${metricSum(notifierMetrics, 'posthooks_emails_total', { kind: 'digest', outcome: 'sent' })} digests), ${smtp.received.length} received by the SMTP sink, ${metricSum(notifierMetrics, 'posthooks_emails_waiting')} still waiting. The dispatcher: ${metricSum(dispatcherMetrics, 'posthooks_deliveries_total', { outcome: 'succeeded' })} deliveries succeeded, ${metricSum(dispatcherMetrics, 'posthooks_deliveries_total', { outcome: 'retry' })} failed attempts retried, ${metricSum(dispatcherMetrics, 'posthooks_deliveries_total', { outcome: 'undeliverable' })} undeliverable; ${attemptRows[0].n.toLocaleString('en')} attempts in its log. Events published in ${fmt(publishedSeconds, 0)} s.`,
    '',
    `Verdicts: memory flat **${flatAll ? 'PASS' : 'MISS'}**, delivery log all 200 **${logOk ? 'PASS' : 'MISS'}**, zero lost **${lost === 0 ? 'PASS' : 'MISS'}**, emails ${emailsSent === smtp.received.length && undeliverableSeen === undeliverable ? '**PASS**' : '**MISS**'}.`,
    '',
  ].join('\n');
  console.log(`\n${report}`);
  writeFileSync(new URL('./results/soak.md', import.meta.url), report);
  sub.unsubscribe();
} finally {
  await stack.close();
}
