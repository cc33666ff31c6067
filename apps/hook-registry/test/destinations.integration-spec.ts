import { builtInDestinationDatabase } from '@posthooks/config';
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { DataSource } from 'typeorm';
import { Streams, Subjects } from '@posthooks/contracts';
import { NatsNaming } from '@posthooks/messaging';
import { connect } from 'nats';
import { SecretBox } from '@posthooks/webhooks';
import { Registry } from './registry-harness';

interface DestinationJson {
  id: number;
  name: string;
  type: 'postgres';
  connection: { url: string } | null;
  database: string;
  created_at: string;
}

/**
 * SPEC §2 destinations (issue 17) against the local Postgres: a connection is checked
 * before it is saved (each failing step its own 400, never an address), never one of the
 * services' own databases, never loopback without ALLOW_PRIVATE_TARGETS; the password is
 * sealed at rest and on REGISTRY, masked in every answer and absent from the log; without
 * a connection the destination gets a database of its own.
 */
describe('destinations with connections', () => {
  const tag = randomBytes(4).toString('hex');
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const loader = `ph_${tag}_loader`;
  const reader = `ph_${tag}_reader`;
  let r: Registry;
  let admin: Client;
  let warehouse: string;
  let port: string;
  const logged: string[] = [];
  const spies: jest.SpyInstance[] = [];
  const url = (role: string, db: string, pass = password, host = '127.0.0.1') => `postgres://${role}:${pass}@${host}:${port}/${db}`;

  beforeAll(async () => {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      spies.push(
        jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
          logged.push(String(chunk));
          return original(chunk, ...(rest as []));
        }),
      );
    }
    r = await Registry.start('registry_destinations', { ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'log' });
    const services = new URL(r.env.DATABASE_URL);
    port = services.port || '5432';
    warehouse = `${services.pathname.slice(1)}_wh`;
    admin = new Client({ connectionString: new URL('/postgres', r.env.DATABASE_URL).toString() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${escapeIdentifier(loader)} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE ROLE ${escapeIdentifier(reader)} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${escapeIdentifier(warehouse)}`);
    await admin.query(`REVOKE CREATE ON DATABASE ${escapeIdentifier(warehouse)} FROM PUBLIC`);
    await admin.query(`GRANT CREATE ON DATABASE ${escapeIdentifier(warehouse)} TO ${escapeIdentifier(loader)}`);
  });

  afterAll(async () => {
    await r?.stop();
    spies.forEach((s) => s.mockRestore());
    await admin.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(warehouse)} WITH (FORCE)`);
    for (const role of [loader, reader]) await admin.query(`DROP ROLE IF EXISTS ${escapeIdentifier(role)}`);
    await admin.end();
  });

  it('without a connection, gives the destination a database of its own', async () => {
    const { key } = await r.account();
    const res = await r.call<DestinationJson>('POST', '/v1/destinations', { token: key, json: { name: 'warehouse', type: 'postgres' } });
    expect(res.status).toBe(201);
    const name = builtInDestinationDatabase(r.env.DATABASE_URL, res.body.id).name;
    expect(res.body).toEqual({ id: res.body.id, name: 'warehouse', type: 'postgres', connection: null, database: name, created_at: expect.any(String) });
    expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount).toBe(1);
  });

  it('checks a connection, seals its password and masks it in every answer', async () => {
    const { key } = await r.account();
    const res = await r.call<DestinationJson>('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres', connection: { url: url(loader, warehouse) } } });
    expect(res.status).toBe(201);
    expect(res.body.connection).toEqual({ url: url(loader, warehouse, '***') });
    expect(res.body.database).toBe(warehouse);
    expect(res.text).not.toContain(password);
    const list = await r.call<DestinationJson[]>('GET', '/v1/destinations', { token: key });
    expect(list.body.map((d) => d.connection)).toEqual([{ url: url(loader, warehouse, '***') }]);
    expect(list.text).not.toContain(password);
    // At rest and on REGISTRY: sealed.
    await r.published();
    const db = r.app.get(DataSource);
    const [row] = await db.query<{ connection_url: string }[]>('SELECT connection_url FROM destinations WHERE id = $1', [res.body.id]);
    expect(row.connection_url).toMatch(/^enc:v1:/);
    const nc = await connect({ servers: r.env.NATS_URL });
    try {
      const naming = new NatsNaming(r.env.NATS_NAMESPACE);
      const jsm = await nc.jetstreamManager();
      const message = await jsm.streams.getMessage(naming.stream(Streams.REGISTRY.name), { last_by_subj: naming.subject(`${Subjects.DestinationChanged}.${res.body.id}`) });
      const event = message.json<{ connection_url: string }>();
      expect(event.connection_url).toMatch(/^enc:v1:/);
      expect(message.string()).not.toContain(password);
    } finally {
      await nc.close();
    }
    // The scratch schema of the check is gone.
    const scratch = await new Client({ connectionString: new URL(`/${warehouse}`, r.env.DATABASE_URL).toString() });
    await scratch.connect();
    expect((await scratch.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'posthooks_check_%'`)).rows).toEqual([]);
    await scratch.end();
  });

  it('says which step failed, and never an address', async () => {
    const { key } = await r.account();
    const cases: [string, string, string][] = [
      ['nothing listens there', url(loader, warehouse, password, '127.0.0.1').replace(`:${port}/`, ':1/'), 'could not connect'],
      ['a host that does not resolve', url(loader, warehouse, password, 'no-such-host.invalid'), 'could not connect'],
      ['no such database', url(loader, `${warehouse}_missing`), 'could not connect'],
      ['no such role', url(`ph_${tag}_nobody`, warehouse), 'authentication failed'],
      ['a role that may not create a schema', url(reader, warehouse), 'cannot create a schema'],
    ];
    for (const [what, bad, error] of cases) {
      const res = await r.call('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres', connection: { url: bad } } });
      expect({ what, status: res.status, body: res.body }).toEqual({ what, status: 400, body: { error } });
      expect(res.text).not.toContain('127.0.0.1');
    }
    expect((await r.call<unknown[]>('GET', '/v1/destinations', { token: key })).body).toEqual([]);
  });

  it("refuses the services' own databases and URLs it cannot use", async () => {
    const { key } = await r.account();
    const own = new URL(r.env.DATABASE_URL).pathname.slice(1);
    const ownError = { error: "connection.url names one of posthooks' own databases: a destination needs a database of its own" };
    for (const db of [own, builtInDestinationDatabase(r.env.DATABASE_URL, 1).name]) {
      expect(await r.call('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres', connection: { url: url('postgres', db) } } })).toMatchObject({ status: 400, body: ownError });
    }
    for (const bad of ['mysql://u:p@db.acme.test/w', 'postgres://u:p@db.acme.test/w?host=/tmp', 'not a url']) {
      const res = await r.call<{ error: string }>('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres', connection: { url: bad } } });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/^connection\.url must be postgres:\/\//);
    }
  });

  it('PUT checks a new connection again, keeps the old one when it fails, and renames', async () => {
    const { key } = await r.account();
    const created = await r.call<DestinationJson>('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres' } });
    const path = `/v1/destinations/${created.body.id}`;
    expect(await r.call('PUT', path, { token: key, json: { connection: { url: url(reader, warehouse) } } })).toMatchObject({ status: 400, body: { error: 'cannot create a schema' } });
    const moved = await r.call<DestinationJson>('PUT', path, { token: key, json: { name: 'dw2', connection: { url: url(loader, warehouse) } } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: created.body.id, name: 'dw2', connection: { url: url(loader, warehouse, '***') }, database: warehouse });
    const back = await r.call<DestinationJson>('PUT', path, { token: key, json: { connection: null } });
    expect(back.body).toMatchObject({ name: 'dw2', connection: null, database: builtInDestinationDatabase(r.env.DATABASE_URL, created.body.id).name });
    const other = await r.account();
    expect(await r.call('PUT', path, { token: other.key, json: { name: 'mine' } })).toMatchObject({ status: 404 });
  });

  it('never logs the password', () => {
    const all = logged.join('');
    expect(all).toContain('destination check failed');
    expect(all).not.toContain(password);
  });

  it('a registry started with a new SECRETS_KEY (the old one in SECRETS_KEY_PREVIOUS) seals connection URLs again, and they still open', async () => {
    const { key } = await r.account();
    const created = await r.call<DestinationJson>('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres', connection: { url: url(loader, warehouse) } } });
    const newKey = randomBytes(32).toString('base64');
    const rotated = await Registry.start('registry_destinations', { ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'error', SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: r.env.SECRETS_KEY! });
    try {
      const box = new SecretBox(newKey);
      const [row] = await rotated.app.get(DataSource).query<{ connection_url: string }[]>('SELECT connection_url FROM destinations WHERE id = $1', [created.body.id]);
      expect(row.connection_url.startsWith(`enc:v1:${box.keyId}:`)).toBe(true);
      expect(box.open(row.connection_url)).toBe(url(loader, warehouse));
      const list = await rotated.call<DestinationJson[]>('GET', '/v1/destinations', { token: key });
      expect(list.body[0].connection).toEqual({ url: url(loader, warehouse, '***') });
    } finally {
      await rotated.stop();
    }
  });

  it('refuses loopback when ALLOW_PRIVATE_TARGETS is off (the default)', async () => {
    const strict = await Registry.start('registry_destinations_strict', { LOG_LEVEL: 'error' });
    try {
      const { key } = await strict.account();
      for (const host of ['127.0.0.1', 'localhost', '169.254.169.254']) {
        const res = await strict.call('POST', '/v1/destinations', { token: key, json: { name: 'dw', type: 'postgres', connection: { url: url(loader, warehouse, password, host) } } });
        expect({ host, status: res.status, body: res.body }).toEqual({ host, status: 400, body: { error: 'connection.url points at an address a destination may not use (loopback, link-local or metadata)' } });
      }
    } finally {
      await strict.stop();
    }
  });
});
