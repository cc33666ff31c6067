import { PrivateNatsServer } from '@posthooks/testing';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NatsConnection } from 'nats';
import { connectNats, inboxPrefixOf, natsAuthOptions } from '../src';

type Service = 'hook-registry' | 'dispatcher' | 'ingest-gateway' | 'load-simulator' | 'email-notifier';
const SERVICES: Service[] = ['hook-registry', 'dispatcher', 'ingest-gateway', 'load-simulator', 'email-notifier'];
const envName = (s: Service) => s.toUpperCase().replace(/-/g, '_');

/**
 * `hook.verify` under the shipped NATS permissions (k8s/base/nats/permissions.conf): a
 * core request (no stream) from the registry, answered by the dispatcher through
 * allow_responses into the registry's inbox. Only the dispatcher may listen to it, only
 * the registry may ask, and the dispatcher may not write into the registry's inbox
 * otherwise. No stack: the services' users are enough (e2e/nats-auth runs the services).
 */
describe('hook.verify under the shipped NATS permissions', () => {
  const dir = join(__dirname, '..', '..', '..', 'k8s', 'base', 'nats');
  // A letter first, as users.conf needs (see provisioning-permissions).
  const passwords = Object.fromEntries(SERVICES.map((s) => [s, `p${randomBytes(12).toString('hex')}`])) as Record<Service, string>;
  let server: PrivateNatsServer;
  const clients: NatsConnection[] = [];

  /** A client with a service's user and inbox, as the service connects. */
  const as = async (user: Service) => {
    const nc = await connectNats(server.url, user, natsAuthOptions({ NATS_CREDS: '', NATS_USER: user, NATS_PASSWORD: passwords[user], NATS_TLS_CA: '' }));
    clients.push(nc);
    return nc;
  };
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'allowed',
      (err: { code?: string; message: string }) => (err.code === 'PERMISSIONS_VIOLATION' ? 'refused' : `failed otherwise: ${err.code} ${err.message}`),
    );

  beforeAll(async () => {
    server = await PrivateNatsServer.start({
      files: [join(dir, 'permissions.conf'), join(dir, 'users.conf')],
      include: 'users.conf',
      env: Object.fromEntries(SERVICES.map((s) => [`NATS_PASSWORD_${envName(s)}`, passwords[s]])),
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.dispose();
  });

  it("carries the registry's request to the dispatcher and its answer back", async () => {
    const registry = await as('hook-registry');
    const dispatcher = await as('dispatcher');
    // As on every dispatcher replica: a queue group, one answer per request.
    const responder = dispatcher.subscribe('hook.verify', { queue: 'dispatcher', callback: (_, m) => m.respond(JSON.stringify({ status_code: 204, duration_ms: 3, error: null, echo: m.string() })) });
    await dispatcher.flush();
    const reply = await registry.request('hook.verify', '{"event_id":"ping-1"}', { timeout: 10_000 });
    expect(reply.json()).toEqual({ status_code: 204, duration_ms: 3, error: null, echo: '{"event_id":"ping-1"}' });
    // A second request gets its own answer: the permission to reply is per request.
    expect((await registry.request('hook.verify', '2', { timeout: 10_000 })).json()).toMatchObject({ echo: '2' });
    responder.unsubscribe();
  });

  it('lets no other service listen to hook.verify or ask for it, and the dispatcher write into no inbox of its own accord', async () => {
    const listens = async (s: Service) => {
      const sub = (await as(s)).subscribe('hook.verify');
      return (async () => {
        for await (const m of sub) void m;
      })().then(
        () => 'ended',
        (err: { code?: string }) => (err.code === 'PERMISSIONS_VIOLATION' ? 'refused' : `failed otherwise: ${err.code}`),
      );
    };
    const outcomes: Record<string, string> = {};
    for (const s of SERVICES.filter((s) => s !== 'dispatcher')) outcomes[`${s} listens to hook.verify`] = await listens(s);
    for (const s of SERVICES.filter((s) => s !== 'hook-registry')) outcomes[`${s} asks hook.verify`] = await refusal((await as(s)).request('hook.verify', '{}', { timeout: 5000 }));
    outcomes['dispatcher writes into the registry inbox'] = await refusal((await as('dispatcher')).request(`${inboxPrefixOf('hook-registry')}.forged`, '{}', { timeout: 5000 }));
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((k) => [k, 'refused'])));
  });
});
