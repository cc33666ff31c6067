import { PrivateNatsServer, testStreamLimits, waitFor } from '@posthooks/testing';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NatsConnection } from 'nats';
import { connectNats, NatsNaming, natsAuthOptions, provisionStreams } from '../src';

/**
 * With the shipped NATS permissions (k8s/base/nats/), only the hook-registry's user may
 * create or change a stream: another service starting first must wait for the stream,
 * not fail its start, and must take a stream that exists as it is. No namespace: the
 * permissions name the production streams, and this server is the test's own.
 */
describe('provisioning streams under the shipped NATS permissions', () => {
  const dir = join(__dirname, '..', '..', '..', 'k8s', 'base', 'nats');
  // A letter first: nats-server reads a variable's value as a config value, and a hex one like "9e10…" as a number (users.conf).
  const passwords = { HOOK_REGISTRY: `p${randomBytes(12).toString('hex')}`, DISPATCHER: `p${randomBytes(12).toString('hex')}` };
  let server: PrivateNatsServer;
  const clients: NatsConnection[] = [];
  const naming = new NatsNaming('');

  const as = async (user: 'hook-registry' | 'dispatcher', password: string) => {
    const nc = await connectNats(server.url, user, natsAuthOptions({ NATS_CREDS: '', NATS_USER: user, NATS_PASSWORD: password, NATS_TLS_CA: '' }));
    clients.push(nc);
    return nc.jetstreamManager();
  };

  beforeAll(async () => {
    server = await PrivateNatsServer.start({
      files: [join(dir, 'permissions.conf'), join(dir, 'users.conf')],
      include: 'users.conf',
      env: {
        NATS_PASSWORD_HOOK_REGISTRY: passwords.HOOK_REGISTRY,
        NATS_PASSWORD_DISPATCHER: passwords.DISPATCHER,
        // The other users exist too; they are not used here.
        NATS_PASSWORD_INGEST_GATEWAY: 'unused-1',
        NATS_PASSWORD_LOAD_SIMULATOR: 'unused-2',
        NATS_PASSWORD_EMAIL_NOTIFIER: 'unused-3',
      },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.dispose();
  });

  it('lets a service that may not create streams wait for the registry to create them, then go on', async () => {
    const dispatcher = await as('dispatcher', passwords.DISPATCHER);
    const registry = await as('hook-registry', passwords.HOOK_REGISTRY);
    let dispatcherDone = false;
    const waiting = provisionStreams(dispatcher, naming, 1, testStreamLimits()).then(() => (dispatcherDone = true));
    // Refused, it creates nothing and keeps waiting (rather than failing its start): an
    // absence, so a fixed wait is the only way to watch it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(dispatcherDone).toBe(false);
    const none: string[] = [];
    for await (const name of registry.streams.names()) none.push(name);
    expect(none).toEqual([]);

    await provisionStreams(registry, naming, 1, testStreamLimits());
    await waitFor('the dispatcher\'s provisioning to end', () => dispatcherDone);
    await waiting;
    // A later start takes the existing streams as they are, at once.
    const started = Date.now();
    await provisionStreams(dispatcher, naming, 1, testStreamLimits());
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
