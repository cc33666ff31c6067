import { connect as tcpConnect, Socket } from 'node:net';
import { rawNatsPublish } from '@posthooks/testing';
import { DestinationDatabases } from '../e2e/support/destination-databases';
import { ServiceName } from '../e2e/support/service-process';
import { ok, tally } from './support/counting-receiver';
import { publishLoads } from './support/events';
import { metric } from './support/fault-stack';
import { report } from './support/report';
import { Scenario, since, waitOrExplain } from './support/scenario';

const ALL: ServiceName[] = ['hook-registry', 'dispatcher', 'email-notifier', 'ingest-gateway', 'load-simulator'];
const MiB = 1024 * 1024;

/** `{"a":{"a":…}}` nested `depth` deep, as JSON text: what killed the dispatcher once (issue 13). */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * Issue 13's proof: the hostile sender, the buggy pipeline and the flooding tenant of
 * items 1–8 against the five services as processes, on a private nats-server with small
 * streams. Counted: processes that exited (0), records answered 202 and not loaded or
 * rejected into `_sdc_rejected` (0), deliveries of good load events lost (0), unhandled
 * rejections (0).
 */
describe('fault: hostile messages and tenants', () => {
  let s: Scenario;
  let pg: DestinationDatabases | undefined;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(async () => {
    await pg?.end();
    await s?.end();
  });

  it('nothing exits, nothing accepted is lost, no delivery is lost', async () => {
    const stack = await s.startStack('fault_hostile', {
      services: ALL,
      common: {
        DELIVERY_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms',
        DELIVERY_TIMEOUT_MS: '2000',
        LOAD_INTERVAL_MS: '300',
        // Small streams, so a flood fills them within the scenario.
        STREAM_MAX_BYTES_INGEST: String(16 * MiB),
        STREAM_MAX_BYTES_LOADS: String(16 * MiB),
      },
      overrides: { 'ingest-gateway': { BODIES_IN_FLIGHT_BYTES: String(24 * MiB) } },
    });
    pg = new DestinationDatabases(stack.env.DATABASE_URL);
    await s.receiver('r0', ok);
    await s.receiver('r1', ok);
    const a = await stack.account();
    const b = await stack.account('advanced', 'b@acme.test');
    for (const r of s.receivers) await stack.hook(a.key, a.destinationId, r.url());
    await stack.hook(b.key, b.destinationId, s.receivers[0].url());
    await stack.registryApplied('dispatcher', 'ingest-gateway', 'load-simulator', 'email-notifier');
    const gw = stack.get('ingest-gateway').url;

    const integration = async (key: string, destinationId: number, name: string) => {
      const res = await stack.call<{ webhook_url: string; schema: string }>('ingest-gateway', 'POST', '/v1/integrations', key, { name, destination_id: destinationId });
      if (res.status !== 201) throw new Error(`integration ${name}: ${res.status} ${JSON.stringify(res.body)}`);
      return { url: `${gw}${new URL(res.body.webhook_url).pathname}`, destinationId, schema: res.body.schema, accepted: 0 };
    };
    const good = await integration(a.key, a.destinationId, 'hostile_good');
    const flood = await integration(a.key, a.destinationId, 'hostile_flood');
    const other = await integration(b.key, b.destinationId, 'hostile_other');
    const post = async (i: { url: string; accepted: number }, body: string): Promise<number> => {
      const res = await fetch(i.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await res.json().catch(() => ({}))) as { accepted?: number };
      if (res.status === 202) i.accepted += answer.accepted ?? 0;
      return res.status;
    };
    const notes: string[] = [];

    // 1. Hostile messages on every consumed subject, good load events between them.
    const ids = await publishLoads(s.nc, s.ns, a.id, 'hostile', 50);
    const deep = () => `{"client_id":${a.id},"integration_name":"x","table_name":"t","bookmark_metadata":${nested(5000)}}`;
    const subjects = ['table.loaded', 'table.rejected', 'ingest.records', 'hook.undeliverable', 'hook.gone', 'delivery.requested', 'hook.test', 'registry.hook.changed', 'registry.account.changed'];
    for (const subject of subjects) {
      for (const body of [deep(), 'not json', JSON.stringify({ junk: 'x'.repeat(900_000) }), '{"client_id":"one"}']) {
        await rawNatsPublish(s.nats.url, `${s.ns}.${subject}`, body);
      }
    }
    ids.push(...(await publishLoads(s.nc, s.ns, a.id, 'hostile', 50, 50)));
    // A service that starts after them replays REGISTRY with the hostile ones in it.
    await stack.kill('dispatcher');
    await stack.restart('dispatcher');

    // 2. The gateway: a million tiny objects, bodies over the limit, clients that hang up.
    const tiny = `[${new Array(1_400_000).fill('{}').join(',')}]`;
    notes.push(`1.4M empty objects: ${await post(good, tiny)}`);
    const over = await fetch(good.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5 * MiB) }).then((r) => r.status, (err: Error) => err.message);
    notes.push(`5 MiB post: ${over}`);
    expect(over).toBe(413);
    const sockets: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const { hostname, host, port, pathname } = new URL(good.url);
      const sock = tcpConnect(Number(port), hostname);
      sock.on('error', () => undefined);
      sock.write(`POST ${pathname} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${4 * MiB - 1}\r\n\r\n[`);
      sockets.push(sock);
    }
    // Two of them hold the budget (3 × 4 MiB each), the others wait for it; then all hang up.
    const gateway = stack.get('ingest-gateway');
    await waitOrExplain('the hang-ups queued for the byte budget', async () => (await metric(gateway, /^posthooks_ingest_bodies_waiting/)) >= 90, 20_000, async () => `${(await (await fetch(`${gateway.url}/metrics`)).text()).split('\n').filter((l) => /ingest_bod|http_request_duration_seconds_count/.test(l)).join('\n')}\n${stack.tails()}`);
    for (const sock of sockets) sock.destroy();
    await waitOrExplain('the budget given back', async () => (await metric(gateway, /^posthooks_ingest_bodies_waiting/)) + (await metric(gateway, /^posthooks_ingest_body_bytes_in_use/)) === 0, 20_000, () => stack.tails());
    const t = Date.now();
    expect(await post(good, '{"after":"hangups"}')).toBe(202);
    notes.push(`small post after 100 hang-ups: ${Date.now() - t} ms`);
    // One record as large as the body limit allows travels by reference.
    expect(await post(good, JSON.stringify({ big: 'y'.repeat(3_900_000) }))).toBe(202);

    // 3. Poison records beside good ones: each goes to _sdc_rejected, the rest load.
    expect(await post(good, JSON.stringify([{ n: 1 }, { n: 2 }]))).toBe(202);
    const wide = Object.fromEntries(Array.from({ length: 1700 }, (_, i) => [`c${i}`, i]));
    expect(await post(good, JSON.stringify([{ n: 3 }, { '': 'empty name' }, wide, { n: 'not a number' }, { n: 4 }]))).toBe(202);
    expect(await post(good, '[{"n":9007199254740993},{"n":9007199254740992}]')).toBe(202);

    // 4. One tenant floods INGEST while the loader is away; the other still gets in.
    await stack.kill('load-simulator');
    const chunk = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ i, pad: 'z'.repeat(300) })));
    let floodStatus = 0;
    for (let i = 0; i < 400 && floodStatus !== 503; i++) floodStatus = await post(flood, chunk);
    notes.push(`flood: 503 after ${flood.accepted} records`);
    expect(floodStatus).toBe(503);
    expect(await post(other, JSON.stringify([{ tenant: 'b' }]))).toBe(202);
    await stack.restart('load-simulator');

    // The count: every record answered 202 is a row or a rejection; every good event delivered.
    const stored = async ({ destinationId, schema }: { destinationId: number; schema: string }) => {
      const q = async (table: string) => Number((await pg!.rows<{ n: string }>(destinationId, `SELECT count(*) AS n FROM "${schema}"."${table}"`))[0]?.n ?? 0);
      return (await q('data')) + (await q('_sdc_rejected'));
    };
    const integrations = [good, flood, other];
    const unloaded = async () => {
      let n = 0;
      for (const i of integrations) n += i.accepted - (await stored(i));
      return n;
    };
    let failure: unknown;
    try {
      await waitOrExplain('every accepted record loaded or rejected', async () => (await unloaded()) === 0, 120_000, async () => `unloaded ${await unloaded()}\n${stack.tails()}`);
      await waitOrExplain('every good event at every receiver', () => tally(s.receivers, ids).lost === 0, 60_000, () => s.explain(ids));
    } catch (err) {
      failure = err;
    }
    const delivered = tally(s.receivers, ids);
    const health = await stack.health();
    const exited = stack.all().filter((p) => p.ended).length;
    let unhandled = 0;
    for (const p of stack.all().filter((x) => !x.ended)) unhandled += await metric(p, /^posthooks_unhandled_rejections_total/).catch(() => 0);
    const left = await unloaded();
    report({
      name: 'hostile messages and tenants (issue 13)',
      events: ids.length,
      expected: delivered.expected,
      delivered: delivered.expected - delivered.lost,
      duplicates: delivered.duplicates,
      lost: delivered.lost,
      notes: [`${delivered.unique - (delivered.expected - delivered.lost)} more webhooks of the loads themselves`, `processes exited ${exited}`, `accepted records not loaded ${left}`, `unhandled rejections ${unhandled}`, ...notes, health.ok ? 'all services ready after' : 'NOT all services ready after'].join('; '),
      seconds: since(s.t0),
    });
    if (failure) throw failure;
    expect(exited).toBe(0);
    expect(left).toBe(0);
    expect(delivered.missing).toEqual([]);
    expect(unhandled).toBe(0);
    expect(health.lines.filter((l) => !l.endsWith('ready 200'))).toEqual([]);
    // The big integers kept every digit: two rows, not one.
    const big = await pg.query<{ n: string }>(good.destinationId, `SELECT n::text FROM "${good.schema}".data WHERE n > 9007199254740000 ORDER BY n`);
    expect(big.map((r: { n: string }) => r.n)).toEqual(['9007199254740992', '9007199254740993']);
  });
});
