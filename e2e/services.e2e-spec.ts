import { rawNatsPublish, testEnv, waitFor } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { SERVICE_NAMES, ServiceProcess } from './support/service-process';

/** The five services as separate processes against the real NATS and Postgres. */
describe('the five services', () => {
  const env = testEnv('services');
  const services: ServiceProcess[] = [];
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: env.NATS_URL });
    // Started one after the other: the first creates the database, the rest find it.
    for (const name of SERVICE_NAMES) services.push(await ServiceProcess.spawn(name, { ...env }));
    await Promise.all(services.map((s) => s.ready()));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await nc?.close();
  });

  it.each(SERVICE_NAMES)('%s answers /health/live and /health/ready with NATS and Postgres up', async (name) => {
    const s = services.find((x) => x.name === name)!;
    const live = await fetch(`${s.url}/health/live`);
    expect([live.status, await live.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${s.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { nats: { status: 'up' }, postgres: { status: 'up' } } });
  });

  it.each(SERVICE_NAMES)('%s serves Prometheus metrics labelled with its name', async (name) => {
    const s = services.find((x) => x.name === name)!;
    const res = await fetch(`${s.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(new RegExp(`process_resident_memory_bytes\\{service="${name}"\\} \\d+`));
  });

  it.each(SERVICE_NAMES)('%s writes one JSON object per log line, with its name', (name) => {
    const s = services.find((x) => x.name === name)!;
    const lines = s.lines.filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ service: name, level: expect.any(String) });
  });

  it.each(['ingest-gateway', 'hook-registry', 'load-simulator', 'dispatcher'] as const)('%s describes its API at /docs (OpenAPI), without a key', async (name) => {
    const s = services.find((x) => x.name === name)!;
    const res = await fetch(`${s.url}/docs`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/health') || p.startsWith('/metrics'))).toBe(false);
  });

  it('answers an unknown route with the contract error body', async () => {
    const res = await fetch(`${services[0].url}/no/such/route`);
    expect([res.status, await res.json()]).toEqual([404, { error: 'NotFound' }]);
  });

  it('created every stream, the consumers and each service schema', async () => {
    const jsm = await nc.jetstreamManager();
    const prefix = `${env.NATS_NAMESPACE.toUpperCase()}_`;
    for (const stream of ['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES', 'REGISTRY', 'DEADLETTER']) {
      expect((await jsm.streams.info(prefix + stream)).config.name).toBe(prefix + stream);
    }
    expect((await jsm.consumers.info(`${prefix}LOADS`, 'dispatcher')).config.durable_name).toBe('dispatcher');
    expect((await jsm.consumers.info(`${prefix}INGEST`, 'load-simulator')).config.durable_name).toBe('load-simulator');
    expect((await jsm.consumers.info(`${prefix}NOTIFY`, 'email-notifier')).config.durable_name).toBe('email-notifier');

    const pg = new Client({ connectionString: env.DATABASE_URL });
    await pg.connect();
    const { rows } = await pg.query<{ schema_name: string }>('SELECT schema_name FROM information_schema.schemata');
    await pg.end();
    expect(rows.map((r) => r.schema_name)).toEqual(expect.arrayContaining(['ingest_gateway', 'hook_registry', 'load_simulator', 'dispatcher', 'email_notifier']));
  });

  it('hands a raw `nats pub table.loaded` to the dispatcher', async () => {
    const dispatcher = services.find((s) => s.name === 'dispatcher')!;
    await rawNatsPublish(env.NATS_URL, `${env.NATS_NAMESPACE}.table.loaded`, '{"client_id":1,"integration_name":"shopify","table_name":"orders","num_rows":100}');
    await waitFor('the dispatcher to count the event', async () => /posthooks_load_events_total\{event_type="table.loaded",service="dispatcher"\} 1/.test(await (await fetch(`${dispatcher.url}/metrics`)).text()));
  });

  it('stops every service cleanly on SIGTERM', async () => {
    const exits = await Promise.all(services.map((s) => s.stop('SIGTERM')));
    for (const [i, exit] of exits.entries()) {
      // Nest re-raises the signal after its shutdown hooks ran.
      expect({ name: services[i].name, ...exit }).toEqual({ name: services[i].name, code: null, signal: 'SIGTERM' });
      expect(services[i].output).not.toMatch(/"level":"(error|fatal)"/);
    }
  });
});
