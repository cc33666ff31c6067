import { INestApplication } from '@nestjs/common';
import { LoadSimulatorEnv, loadEnv } from '@posthooks/config';
import { IngestRecordsEvent, Subjects } from '@posthooks/contracts';
import { EventPublisher, NatsNaming } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { createServiceApp } from '@posthooks/runtime';
import { RegistryEvents, streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, NatsConnection } from 'nats';
import { Client, escapeIdentifier } from 'pg';
import { destinationUp } from '../src/destination-pools/destination-pools';
import { loadSimulator } from '../src/service';

/**
 * Issue 17 against two real databases on the local Postgres, each with a role of its own
 * and a password: records of integrations land in their destination's database, in the
 * schema named after the integration; one destination made unreachable (CONNECT revoked,
 * its sessions terminated) delays only its own loads, loses nothing and dead-letters
 * nothing, and loads resume by themselves once it is back; new credentials apply without
 * a restart; no password is ever written to the log.
 */
describe('loading into destinations of their own', () => {
  const tag = randomBytes(4).toString('hex');
  const env = loadEnv(LoadSimulatorEnv, { ...testEnv('dest_pools'), NODE_ENV: 'test', LOG_LEVEL: 'log', LOAD_INTERVAL_MS: '200', ALLOW_PRIVATE_TARGETS: 'true' });
  const services = new URL(env.DATABASE_URL);
  const database = (name: string) => `${services.pathname.slice(1)}_${name}`;
  const url = (role: Role, db: string) => `postgres://${role.name}:${encodeURIComponent(role.password)}@127.0.0.1:${services.port || 5432}/${db}`;

  interface Role {
    name: string;
    password: string;
  }
  const role = (name: string): Role => ({ name: `ph_${tag}_${name}`, password: `pw-${name}-${randomBytes(12).toString('hex')}` });
  const roles = { a: role('a'), b: role('b'), c: role('c') };
  const dbA = database('wh_a');
  const dbB = database('wh_b');
  const DEST_A = 41;
  const DEST_B = 42;

  let app: INestApplication;
  let admin: Client;
  let nc: NatsConnection;
  let publisher: EventPublisher;
  let registry: RegistryEvents;
  const logged: string[] = [];
  const spies: jest.SpyInstance[] = [];

  /** A client of `db` as the superuser (trust auth locally): it reads whatever the loader wrote. */
  async function superuser<T>(db: string, work: (c: Client) => Promise<T>): Promise<T> {
    const u = new URL(env.DATABASE_URL);
    u.pathname = `/${db}`;
    const c = new Client({ connectionString: u.toString() });
    await c.connect();
    try {
      return await work(c);
    } finally {
      await c.end();
    }
  }
  const count = (db: string, schema: string) =>
    superuser(db, async (c) => Number((await c.query(`SELECT count(*)::int AS n FROM ${escapeIdentifier(schema)}.data`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n));

  let nextIntegration = 1;
  async function ingest(destinationId: number, integration: { id: number; name: string }, records: Record<string, unknown>[]): Promise<void> {
    const requestId = randomUUID();
    const event: IngestRecordsEvent = Object.assign(new IngestRecordsEvent(), {
      integration_id: integration.id,
      client_id: 7,
      destination_id: destinationId,
      integration_name: integration.name,
      schema: integration.name,
      primary_key: 'id',
      request_id: requestId,
      part: 0,
      received_at: new Date().toISOString(),
      records,
    });
    await publisher.publish(Subjects.IngestRecords, event, { msgId: `${requestId}-0` });
  }

  async function announce(destinationId: number, connectionUrl: string): Promise<void> {
    await registry.destination(7, { id: destinationId, connectionUrl });
    await waitFor(`the view to have destination ${destinationId}'s connection`, () => app.get(RegistryView).destinationConnectionUrl(destinationId) === connectionUrl);
  }

  beforeAll(async () => {
    // Logs captured (stdout: Nest's JSON lines below error; stderr: errors), to look for passwords in them.
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      spies.push(
        jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
          logged.push(String(chunk));
          return stream === process.stderr ? original(chunk, ...(rest as [])) : true;
        }),
      );
    }
    admin = new Client({ connectionString: new URL('/postgres', env.DATABASE_URL).toString() });
    await admin.connect();
    for (const r of Object.values(roles)) await admin.query(`CREATE ROLE ${escapeIdentifier(r.name)} LOGIN NOSUPERUSER PASSWORD '${r.password}'`);
    for (const [db, owners] of [
      [dbA, [roles.a, roles.c]],
      [dbB, [roles.b]],
    ] as const) {
      await admin.query(`CREATE DATABASE ${escapeIdentifier(db)}`);
      await admin.query(`REVOKE CONNECT ON DATABASE ${escapeIdentifier(db)} FROM PUBLIC`);
      for (const r of owners) await admin.query(`GRANT CONNECT, CREATE ON DATABASE ${escapeIdentifier(db)} TO ${escapeIdentifier(r.name)}`);
    }
    app = await createServiceApp(loadSimulator, env);
    nc = await connect({ servers: env.NATS_URL });
    publisher = new EventPublisher(nc.jetstream(), new NatsNaming(env.NATS_NAMESPACE));
    registry = new RegistryEvents(nc, env.NATS_NAMESPACE);
    await announce(DEST_A, url(roles.a, dbA));
    await announce(DEST_B, url(roles.b, dbB));
  });

  afterAll(async () => {
    await app?.close();
    await nc?.close();
    spies.forEach((s) => s.mockRestore());
    for (const db of [dbA, dbB]) await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(db)} WITH (FORCE)`);
    for (const r of Object.values(roles)) await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(r.name)}`);
    await admin.end();
  });

  it("loads each integration into its destination's database, in the schema named after it (one name in two destinations too)", async () => {
    const shopA = { id: nextIntegration++, name: 'shop' };
    const shopB = { id: nextIntegration++, name: 'shop' };
    const crmB = { id: nextIntegration++, name: 'crm' };
    await ingest(DEST_A, shopA, [{ id: 1 }, { id: 2 }]);
    await ingest(DEST_B, shopB, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await ingest(DEST_B, crmB, [{ id: 1 }]);
    await waitFor('all rows loaded', async () => (await count(dbA, 'shop')) === 2 && (await count(dbB, 'shop')) === 3 && (await count(dbB, 'crm')) === 1);
    // Nothing in the services' own database, nor in the other destination.
    expect(await superuser(services.pathname.slice(1), async (c) => (await c.query(`SELECT nspname FROM pg_namespace WHERE nspname IN ('shop', 'crm')`)).rows)).toEqual([]);
    expect(await count(dbA, 'crm')).toBe(0);
    // Written with the destination's own role.
    const owner = await superuser(dbA, async (c) => (await c.query(`SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'shop'`)).rows[0].owner);
    expect(owner).toBe(roles.a.name);
  });

  it('a destination made unreachable delays only its own loads; nothing is lost or dead-lettered, and loading resumes by itself', async () => {
    const down = { id: nextIntegration++, name: 'orders' };
    const other = { id: nextIntegration++, name: 'orders' };
    await admin.query(`REVOKE CONNECT ON DATABASE ${escapeIdentifier(dbA)} FROM ${escapeIdentifier(roles.a.name)}, ${escapeIdentifier(roles.c.name)}`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbA]);

    const MESSAGES = 40;
    for (let m = 0; m < MESSAGES; m++) {
      await ingest(DEST_A, down, Array.from({ length: 5 }, (_, i) => ({ id: m * 5 + i })));
      await ingest(DEST_B, other, Array.from({ length: 5 }, (_, i) => ({ id: m * 5 + i })));
    }
    // The other destination loads all of its records while A is down.
    await waitFor('destination B to load everything', async () => (await count(dbB, 'orders')) === MESSAGES * 5, { timeoutMs: 60_000, intervalMs: 250 });
    expect(await count(dbA, 'orders')).toBe(0);
    const up = async (id: number) => (await destinationUp.get()).values.find((v) => v.labels.destination_id === String(id))?.value;
    expect(await up(DEST_A)).toBe(0);
    expect(await up(DEST_B)).toBe(1);
    const downLines = logged.filter((line) => line.includes(`destination ${DEST_A} is down`));
    expect(downLines.length).toBeGreaterThanOrEqual(1);
    // Once a minute at most, not once per message.
    expect(downLines.length).toBeLessThanOrEqual(2);
    expect(downLines[0]).toContain('42501');

    await admin.query(`GRANT CONNECT ON DATABASE ${escapeIdentifier(dbA)} TO ${escapeIdentifier(roles.a.name)}, ${escapeIdentifier(roles.c.name)}`);
    await waitFor('destination A to load everything once it is back', async () => (await count(dbA, 'orders')) === MESSAGES * 5, { timeoutMs: 90_000, intervalMs: 250 });
    expect(await up(DEST_A)).toBe(1);
    expect(logged.some((line) => line.includes(`destination ${DEST_A} is back`))).toBe(true);
    const jsm = await nc.jetstreamManager();
    expect(await streamMessages(jsm, env.NATS_NAMESPACE, 'DEADLETTER')).toHaveLength(0);
  }, 180_000);

  it("new credentials apply to the next load without a restart, and no password is ever logged", async () => {
    // A's connection now names role c; role a loses CONNECT, so only the new credentials can load.
    await announce(DEST_A, url(roles.c, dbA));
    await admin.query(`REVOKE CONNECT ON DATABASE ${escapeIdentifier(dbA)} FROM ${escapeIdentifier(roles.a.name)}`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = $2', [dbA, roles.a.name]);
    const refunds = { id: nextIntegration++, name: 'refunds' };
    await ingest(DEST_A, refunds, [{ id: 1 }, { id: 2 }]);
    await waitFor('the load with the new credentials', async () => (await count(dbA, 'refunds')) === 2, { timeoutMs: 60_000, intervalMs: 250 });
    const owner = await superuser(dbA, async (c) => (await c.query(`SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = 'refunds'`)).rows[0].owner);
    expect(owner).toBe(roles.c.name);

    const all = logged.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const r of Object.values(roles)) {
      expect(all).not.toContain(r.password);
      expect(all).not.toContain(encodeURIComponent(r.password));
    }
  }, 120_000);
});
