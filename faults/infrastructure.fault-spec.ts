import { waitFor } from '@posthooks/testing';
import { ServiceName } from '../e2e/support/service-process';
import { failFirst, ok } from './support/counting-receiver';
import { PrivatePostgres } from './support/private-postgres';
import { midStream, Scenario } from './support/scenario';

const DISPATCH = { DELIVERY_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms', DELIVERY_TIMEOUT_MS: '2000' };
/** All five: every one of them must ride out the outage by itself (SPEC §1: "after start it reconnects"). */
const ALL: ServiceName[] = ['hook-registry', 'dispatcher', 'email-notifier', 'ingest-gateway', 'load-simulator'];

describe('fault: nats-server restarted mid-stream', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('services reconnect and nothing is lost', async () => {
    const stack = await s.startStack('fault_nats', { services: ALL, common: DISPATCH });
    await midStream(s, {
      title: 'nats-server restart (same port, same store)',
      events: 400,
      behaviours: [ok, ok, failFirst(1)],
      faultAfter: 300,
      fault: async () => {
        const t = Date.now();
        await s.nats.stop(); // SIGTERM, and wait for the exit
        // Down until every service has noticed (its readiness says so): a real outage, not a blip.
        await waitFor('every service to report NATS down', async () => !(await stack.health()).lines.some((l) => l.endsWith('ready 200')), { timeoutMs: 30_000 });
        await s.nats.restart(); // the same port and store dir
        return `nats down ${Date.now() - t} ms (until every service reported not ready)`;
      },
      // Published after the restart: the consumers must take new work, not only finish the old.
      eventsAfterFault: 100,
    });
  });
});

describe('fault: Postgres stopped for 10 s mid-stream', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('services ride out the outage and nothing is lost', async () => {
    // A cluster of our own: the machine's Postgres on 5432 serves other test runs.
    const pg = await PrivatePostgres.start();
    s.onCleanup(() => pg.dispose());
    await s.startStack('fault_pg', { services: ALL, common: { ...DISPATCH, DATABASE_URL: pg.url('posthooks_fault_pg') } });
    await midStream(s, {
      title: 'Postgres stopped for 10 s',
      events: 400,
      behaviours: [ok, ok, failFirst(1)],
      faultAfter: 300,
      fault: async () => {
        await pg.stopServer('fast');
        // The outage itself is the scenario: a fixed 10 s, not a condition.
        await new Promise((r) => setTimeout(r, 10_000));
        await pg.startServer();
        return 'Postgres down 10 s';
      },
      eventsAfterFault: 100,
      timeoutMs: 150_000,
    });
  });
});
