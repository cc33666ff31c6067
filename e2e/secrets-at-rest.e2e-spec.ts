import { HttpsReceiver, rawNatsPublish, streamMessages, TEST_SECRETS_KEY, waitFor } from '@posthooks/testing';
import { SecretBox } from '@posthooks/webhooks';
import { randomBytes } from 'node:crypto';
import { connect, NatsConnection } from 'nats';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { ServiceName, ServiceProcess } from './support/service-process';
import { Stack } from './support/stack';

/**
 * Issue 15, item 2 (SPEC §12): hook signing secrets never rest nor travel in clear. They
 * are sealed under SECRETS_KEY in the registry's Postgres and on REGISTRY (read here raw),
 * the dispatcher opens them to sign, and a rotation of SECRETS_KEY keeps signing working.
 */
describe('hook signing secrets at rest and in transit', () => {
  let stack: Stack;
  let nc: NatsConnection;
  let pg: Client;
  let rx: HttpsReceiver;
  let account: { id: number; key: string; destinationId: number };
  let hook: { id: number; secret: string };
  let rotatedSecret: string;

  beforeAll(async () => {
    stack = await Stack.start('e2e_secrets');
    nc = await connect({ servers: stack.env.NATS_URL });
    pg = new Client({ connectionString: stack.env.DATABASE_URL });
    await pg.connect();
    rx = await HttpsReceiver.start();
    account = await stack.account();
    hook = await stack.hook(account.key, account.destinationId, rx.url());
    const rotation = await stack.call<{ secret: string }>('hook-registry', 'POST', `/v1/hooks/${hook.id}/rotate-secret`, account.key);
    expect(rotation.status).toBe(200);
    rotatedSecret = rotation.body.secret;
  });
  afterAll(async () => {
    await nc.close();
    await pg.end();
    await stack.stop();
    await rx.close();
  });

  /** A load for the account; resolves with the body of the webhook it caused, verified with each secret the API returned. */
  async function deliveredAndVerified(secrets: string[]): Promise<void> {
    await stack.registryApplied('dispatcher');
    const before = rx.requests.length;
    const table = `orders_${randomBytes(3).toString('hex')}`;
    await rawNatsPublish(stack.env.NATS_URL, `${stack.env.NATS_NAMESPACE}.table.loaded`, JSON.stringify({ client_id: account.id, integration_name: 'shopify', table_name: table, num_rows: 1 }));
    const requests = await rx.waitForRequests(before + 1);
    const request = requests[before];
    for (const secret of secrets) {
      // Each verifies on its own: the header carries one signature per live secret.
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({ source_root_table_name: table });
    }
  }

  async function storedSecrets(): Promise<string[]> {
    const { rows } = await pg.query<{ secret: string }>('SELECT secret FROM hook_registry.hook_secrets WHERE hook_id = $1 ORDER BY id', [hook.id]);
    return rows.map((row) => row.secret);
  }

  async function registryText(): Promise<string[]> {
    const messages = await streamMessages(await nc.jetstreamManager(), stack.env.NATS_NAMESPACE, 'REGISTRY');
    return messages.map((m) => Buffer.from(m.data).toString('utf8'));
  }

  it('keeps no whsec_ on REGISTRY nor in Postgres, and the dispatcher signs with the secrets the API returned', async () => {
    await deliveredAndVerified([rotatedSecret, hook.secret]);

    const stream = await registryText();
    // Compacted REGISTRY: the hook's last state only (after the rotation, both secrets sealed).
    expect(stream.filter((text) => text.includes(`"hook_id":${hook.id}`))).toHaveLength(1);
    expect(stream.find((text) => text.includes(`"hook_id":${hook.id}`))?.match(/"secret":"enc:v1:/g)).toHaveLength(2);
    expect(stream.filter((text) => text.includes('whsec_'))).toEqual([]);
    expect(stream.filter((text) => text.includes(`"hook_id":${hook.id}`)).every((text) => text.includes('"secret":"enc:v1:'))).toBe(true);

    const stored = await storedSecrets();
    expect(stored).toHaveLength(2);
    for (const secret of stored) expect(secret).toMatch(new RegExp(`^enc:v1:${new SecretBox(TEST_SECRETS_KEY).keyId}:`));
    const { rows } = await pg.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM hook_registry.hook_secrets WHERE secret LIKE '%whsec_%')
            + (SELECT count(*) FROM hook_registry.outbox WHERE payload::text LIKE '%whsec_%') AS n`,
    );
    expect(Number(rows[0].n)).toBe(0);
  });

  it('keeps signing through a SECRETS_KEY rotation: new key with the old as previous, then the new key alone', async () => {
    const newKey = randomBytes(32).toString('base64');
    const newId = new SecretBox(newKey).keyId;
    await restart(['hook-registry', 'dispatcher'], { SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: TEST_SECRETS_KEY });
    // The registry resealed every secret before it answered, and published the hook anew.
    for (const secret of await storedSecrets()) expect(secret).toMatch(new RegExp(`^enc:v1:${newId}:`));
    await waitFor('the resealed hook on REGISTRY', async () => (await registryText()).some((text) => text.includes(`"hook_id":${hook.id}`) && text.includes(`enc:v1:${newId}:`)));
    await deliveredAndVerified([rotatedSecret, hook.secret]);

    // Step 2: the previous key dropped. Everything the views replay is sealed under the new key.
    await restart(['hook-registry', 'dispatcher'], { SECRETS_KEY: newKey });
    await deliveredAndVerified([rotatedSecret, hook.secret]);
    expect((await registryText()).filter((text) => text.includes('whsec_'))).toEqual([]);
  });

  it('refuses to start a registry that lacks the key its secrets are sealed under, naming only the key id', async () => {
    const registry = await ServiceProcess.spawn('hook-registry', { ...stack.env, SECRETS_KEY: randomBytes(32).toString('base64') });
    expect((await registry.exited).code).toBe(1);
    await waitFor('the reason in its output', () => /sealed under key [0-9a-f]{8}, which is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS/.test(registry.output));
    expect(registry.output).not.toContain('whsec_');
  });

  it.each(['hook-registry', 'dispatcher'] as const)('refuses to start %s in production without SECRETS_KEY, naming it', async (name) => {
    const s = await ServiceProcess.spawn(name, { ...stack.env, NODE_ENV: 'production', ADMIN_TOKEN: randomBytes(33).toString('base64'), SECRETS_KEY: '' });
    expect((await s.exited).code).toBe(1);
    await waitFor('the reason in its output', () => s.output.includes('SECRETS_KEY: is required unless NODE_ENV=development'));
  });

  it('refuses to start the dispatcher in development without SECRETS_KEY, saying where one comes from', async () => {
    const s = await ServiceProcess.spawn('dispatcher', { ...stack.env, NODE_ENV: 'development', SECRETS_KEY: '' });
    expect((await s.exited).code).toBe(1);
    await waitFor('the reason in its output', () => s.output.includes('`npm start` creates one in the git-ignored .secrets-key'));
  });

  async function restart(names: ServiceName[], env: Record<string, string>): Promise<void> {
    for (const name of names) await stack.get(name).stop();
    // The registry first: it reseals before it answers, the dispatcher then follows.
    for (const name of names) stack.services.set(name, await (await ServiceProcess.spawn(name, { ...stack.env, ...env })).ready());
  }
});
