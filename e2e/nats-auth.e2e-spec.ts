import { connectNats, inboxPrefixOf, natsAuthOptions, NatsAuthSettings } from '@posthooks/messaging';
import { HttpsReceiver, natsUserCreds, NatsServerConfig, PrivateNatsServer, waitFor } from '@posthooks/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DestinationDatabases } from './support/destination-databases';
import { AckPolicy, connect, NatsConnection } from 'nats';
import { Webhook } from 'standardwebhooks';
import { SERVICE_NAMES, ServiceName } from './support/service-process';
import { Stack } from './support/stack';
/** The test run's throwaway CA (libs/testing global setup): its `trusted` certificate names 127.0.0.1. */
function throwawayTls(): { ca: string; cert: string; key: string } {
  const dir = process.env.POSTHOOKS_TEST_TLS_DIR;
  if (!dir) throw new Error('POSTHOOKS_TEST_TLS_DIR is not set: run tests with `npm test`');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'trusted.pem'), key: join(dir, 'trusted.key') };
}

/**
 * Issue 15, item 1 (SPEC §12): a nats-server 2.9 with the shipped permissions file
 * (k8s/base/nats/permissions.conf, the file compose and k8s mount), each service with its
 * own credentials, for both kinds: user and password (over TLS, NATS_TLS_CA), and a .creds
 * file (an nkey user). Every service works (a posted record is loaded and its load's
 * webhook delivered, a large one through the object store; the email-notifier is ready,
 * its consumer and view up); what a service must not do is refused; anonymous clients
 * are refused.
 *
 * Without a namespace: the permissions name the production subjects and streams, and
 * this server is the test's own.
 */
const NATS_CONF = join(__dirname, '..', 'k8s', 'base', 'nats');
const envName = (s: ServiceName) => s.toUpperCase().replace(/-/g, '_');

interface Credentials {
  server: NatsServerConfig;
  services: Record<ServiceName, NatsAuthSettings>;
}

const none: NatsAuthSettings = { NATS_CREDS: '', NATS_USER: '', NATS_PASSWORD: '', NATS_TLS_CA: '' };

function passwords(): Credentials {
  const tls = throwawayTls();
  // A letter first, as users.conf needs (nats-server reads "9e10…" as a number).
  const pw = Object.fromEntries(SERVICE_NAMES.map((s) => [s, `p${randomBytes(18).toString('hex')}`])) as Record<ServiceName, string>;
  return {
    server: {
      files: [join(NATS_CONF, 'permissions.conf'), join(NATS_CONF, 'users.conf')],
      include: 'users.conf',
      env: Object.fromEntries(SERVICE_NAMES.map((s) => [`NATS_PASSWORD_${envName(s)}`, pw[s]])),
      tls: { certFile: tls.cert, keyFile: tls.key },
    },
    services: Object.fromEntries(SERVICE_NAMES.map((s) => [s, { ...none, NATS_USER: s, NATS_PASSWORD: pw[s], NATS_TLS_CA: tls.ca }])) as Record<ServiceName, NatsAuthSettings>,
  };
}

function credsFiles(dir: string): Credentials {
  const users = Object.fromEntries(SERVICE_NAMES.map((s) => [s, natsUserCreds(s)])) as Record<ServiceName, ReturnType<typeof natsUserCreds>>;
  for (const s of SERVICE_NAMES) writeFileSync(join(dir, `${s}.creds`), users[s].creds, { mode: 0o600 });
  return {
    server: {
      files: [join(NATS_CONF, 'permissions.conf'), join(NATS_CONF, 'users-nkeys.conf')],
      include: 'users-nkeys.conf',
      env: Object.fromEntries(SERVICE_NAMES.map((s) => [`NATS_NKEY_${envName(s)}`, users[s].publicKey])),
    },
    services: Object.fromEntries(SERVICE_NAMES.map((s) => [s, { ...none, NATS_CREDS: join(dir, `${s}.creds`) }])) as Record<ServiceName, NatsAuthSettings>,
  };
}

/** Subjects each service must not publish (SPEC §12): refused by the server, nothing stored. */
const FORBIDDEN: Record<ServiceName, string[]> = {
  'ingest-gateway': ['registry.api_key.changed', 'registry.api_key.changed.1', 'registry.hook.changed', 'registry.hook.changed.1', 'hook.gone', 'hook.undeliverable', 'table.loaded', 'load.started', 'deadletter.table.loaded', 'hook.verify'],
  'load-simulator': ['registry.account.changed', 'hook.undeliverable', 'ingest.records', 'hook.test', 'hook.verify'],
  dispatcher: ['registry.hook.changed', 'ingest.records', 'table.loaded', 'load.started', 'hook.test', 'hook.verify'],
  'email-notifier': ['registry.account.changed', 'hook.gone', 'table.loaded', 'load.started', 'ingest.records', 'hook.verify'],
  'hook-registry': ['hook.undeliverable', 'hook.gone', 'table.loaded', 'load.started', 'ingest.records'],
};

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'allowed',
    (err: { code?: string; message: string }) => (err.code === 'PERMISSIONS_VIOLATION' ? 'refused' : `failed otherwise: ${err.message}`),
  );

describe.each([
  ['a user and password per service, over TLS', 'password'],
  ['a .creds file per service (nkey users)', 'creds'],
] as const)('NATS with the shipped permissions: %s', (_, kind) => {
  let dir: string;
  let credentials: Credentials;
  let nats: PrivateNatsServer;
  let stack: Stack;
  let rx: HttpsReceiver;
  let pg: DestinationDatabases;
  const clients: NatsConnection[] = [];

  /** A client with a service's credentials and inbox, as the service connects. */
  const as = async (s: ServiceName) => {
    const nc = await connectNats(nats.url, s, natsAuthOptions(credentials.services[s]));
    clients.push(nc);
    return nc;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'posthooks-nats-auth-'));
    credentials = kind === 'password' ? passwords() : credsFiles(dir);
    nats = await PrivateNatsServer.start(credentials.server);
    const overrides = Object.fromEntries(SERVICE_NAMES.map((s) => [s, { ...credentials.services[s], ...(s === 'load-simulator' ? { LOAD_INTERVAL_MS: '300' } : {}) }]));
    stack = await Stack.start(`nats_auth_${kind}`, overrides, { NATS_URL: nats.url, NATS_NAMESPACE: '' });
    rx = await HttpsReceiver.start();
    pg = new DestinationDatabases(stack.env.DATABASE_URL);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await pg?.end();
    await stack?.stop();
    await rx?.close();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every service works: posted records are loaded (a large one through the object store) and the load\'s webhook is delivered, signed', async () => {
    const acc = await stack.account();
    const hook = await stack.hook(acc.key, acc.destinationId, rx.url());
    // The gateway learns the key and the destination from REGISTRY, through its filtered consumers.
    const integration = await waitFor('the gateway to know the key and the destination', async () => {
      const res = await stack.call<{ webhook_url: string; schema: string }>('ingest-gateway', 'POST', '/v1/integrations', acc.key, { name: 'shop', destination_id: acc.destinationId, primary_key: 'id' });
      return res.status === 201 && res.body;
    });
    const url = `${stack.get('ingest-gateway').url}${new URL(integration.webhook_url).pathname}`;
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post([{ id: 1 }, { id: 2 }])).status).toBe(202);
    expect((await post({ id: 3, big: 'x'.repeat(600_000) })).status).toBe(202);

    const ids = await waitFor('the three rows', async () => {
      const r = await pg.rows<{ id: string }>(acc.destinationId, `SELECT id FROM "${integration.schema}".data ORDER BY id`);
      return r.length === 3 && r.map((row) => row.id);
    });
    expect(ids).toEqual(['1', '2', '3']);

    const [request] = await rx.waitForRequests(1);
    const body = new Webhook(hook.secret).verify(request.body, request.headers as Record<string, string>) as Record<string, unknown>;
    expect(body).toMatchObject({ event_type: 'table.loaded', client_id: acc.id, integration_name: 'shop' });
    expect((await fetch(`${stack.get('email-notifier').url}/health/ready`)).status).toBe(200);
  });

  it('restarts every service under its user: its durable consumers, already there, are updated', async () => {
    for (const s of SERVICE_NAMES) {
      await stack.get(s).stop();
      expect((await fetch(`${(await stack.restart(s)).url}/health/ready`)).status).toBe(200);
    }
  });

  it('refuses each service the subjects that are not its own', async () => {
    const outcomes: Record<string, string> = {};
    for (const s of SERVICE_NAMES) {
      const js = (await as(s)).jetstream();
      for (const subject of FORBIDDEN[s]) outcomes[`${s} publishes ${subject}`] = await refusal(js.publish(subject, '{}'));
    }
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((k) => [k, 'refused'])));
  });

  it('lets the gateway\'s user read API keys from REGISTRY, never hooks: no other consumer, no message by sequence, no other service\'s inbox', async () => {
    const gateway = await as('ingest-gateway');
    const jsm = await gateway.jetstreamManager();
    // What it needs works (so what follows is refused by permission, not by a broken client).
    // Compacted REGISTRY: each key on its own subject, read with a wildcard filter.
    const keys = await gateway.jetstream().consumers.get('REGISTRY', { filterSubjects: 'registry.api_key.changed.*' });
    expect((await keys.next({ expires: 5000 }))?.subject).toMatch(/^registry\.api_key\.changed\.\d+$/);

    const outcomes = {
      'a consumer on hooks': await refusal(jsm.consumers.add('REGISTRY', { name: 'peek_hooks', filter_subject: 'registry.hook.changed', ack_policy: AckPolicy.None })),
      'a consumer on every hook': await refusal(jsm.consumers.add('REGISTRY', { name: 'peek_hooks_all', filter_subject: 'registry.hook.changed.*', ack_policy: AckPolicy.None })),
      'a consumer on every kind': await refusal(jsm.consumers.add('REGISTRY', { name: 'peek_kinds', filter_subject: 'registry.*.changed.*', ack_policy: AckPolicy.None })),
      'a consumer on registry.>': await refusal(jsm.consumers.add('REGISTRY', { name: 'peek_gt', filter_subject: 'registry.>', ack_policy: AckPolicy.None })),
      'a consumer on the whole stream': await refusal(jsm.consumers.add('REGISTRY', { name: 'peek_all', ack_policy: AckPolicy.None })),
      'a durable consumer': await refusal(jsm.consumers.add('REGISTRY', { durable_name: 'peek_durable', ack_policy: AckPolicy.None })),
      'a message by sequence': await refusal(jsm.streams.getMessage('REGISTRY', { seq: 1 })),
      'the last hook message': await refusal(jsm.streams.getMessage('REGISTRY', { last_by_subj: 'registry.hook.changed' })),
      'the last message of hook 1': await refusal(jsm.streams.getMessage('REGISTRY', { last_by_subj: 'registry.hook.changed.1' })),
      'the list of consumers': await refusal(jsm.consumers.list('REGISTRY').next()),
      'a dead letter': await refusal(jsm.streams.getMessage('DEADLETTER', { seq: 1 })),
      'purging REGISTRY': await refusal(jsm.streams.purge('REGISTRY')),
    };
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((k) => [k, 'refused'])));

    // The dispatcher's replies (where its REGISTRY messages arrive) are not the gateway's to read.
    const sub = gateway.subscribe(`${inboxPrefixOf('dispatcher')}.>`);
    const ended = await (async () => {
      for await (const m of sub) void m;
    })().then(
      () => 'ended',
      (err: { code?: string }) => err.code,
    );
    expect(ended).toBe('PERMISSIONS_VIOLATION');
  });

  it('refuses anonymous clients and a wrong password', async () => {
    const tls = credentials.server.tls ? { tls: { caFile: credentials.services.dispatcher.NATS_TLS_CA } } : {};
    const attempt = (opts: object) =>
      connect({ servers: nats.url, reconnect: false, ...tls, ...opts }).then(
        async (nc) => {
          await nc.close();
          return 'connected';
        },
        (err: { code?: string }) => err.code,
      );
    expect(await attempt({})).toBe('AUTHORIZATION_VIOLATION');
    expect(await attempt({ user: 'dispatcher', pass: 'not-its-password', inboxPrefix: inboxPrefixOf('dispatcher') })).toBe('AUTHORIZATION_VIOLATION');
  });
});
