import { Subjects } from '@posthooks/contracts';
import { NatsNaming, provisionStreams } from '@posthooks/messaging';
import { freePort, TEST_SECRETS_KEY, testEnv, testStreamLimits, waitFor } from '@posthooks/testing';
import { SecretBox } from '@posthooks/webhooks';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { Webhook } from 'standardwebhooks';

const ROOT = join(__dirname, '..');

/**
 * `npm start`'s demo receiver (tools/demo-receiver.mjs) as a process: it learns a hook's
 * sealed secret from REGISTRY, verifies what arrives with it, and prints one sensible line
 * per event type (issue 16: a ping used to print `ping undefined.undefined (0 rows)`).
 */
describe('the demo receiver', () => {
  const env = testEnv('demo_receiver');
  const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
  let nc: NatsConnection;
  let proc: ChildProcess;
  let port: number;
  let out = '';

  beforeAll(async () => {
    nc = await connect({ servers: env.NATS_URL });
    const naming = new NatsNaming(env.NATS_NAMESPACE);
    await provisionStreams(await nc.jetstreamManager(), naming, 1, testStreamLimits());
    port = await freePort();
    const hook = { hook_id: 9, account_id: 1, destination_id: 1, url: `https://localhost:${port}/hooks`, disabled_at: null, disabled_reason: null, secrets: [{ secret: new SecretBox(TEST_SECRETS_KEY).seal(secret), expires_at: null }], deleted: false, changed_by: 'test', changed_at: new Date().toISOString() };
    await nc.jetstream().publish(naming.subject(`${Subjects.HookChanged}.9`), JSON.stringify(hook));
    proc = spawn(process.execPath, ['tools/demo-receiver.mjs'], { cwd: ROOT, env: { PATH: process.env.PATH, NATS_URL: env.NATS_URL, NATS_NAMESPACE: env.NATS_NAMESPACE, SECRETS_KEY: TEST_SECRETS_KEY, DEMO_RECEIVER_PORT: String(port) } });
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor('the demo receiver to listen', () => out.includes('demo receiver on'), { timeoutMs: 20_000 });
  });
  afterAll(async () => {
    proc?.kill();
    await nc?.close();
  });

  // The throwaway CA the receiver made (or found) in .demo/ as it started.
  const ca = () => readFileSync(join(ROOT, '.demo', 'tls', 'ca.pem'));
  function post(event: object, signWith = secret): Promise<number> {
    const body = JSON.stringify(event);
    const id = `msg_${Math.random().toString(16).slice(2)}`;
    const timestamp = new Date();
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': new Webhook(signWith).sign(id, timestamp, body) };
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', servername: 'localhost', port, path: '/hooks', method: 'POST', headers, ca: ca() }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const line = (id: string) => waitFor(`the line about ${id}`, () => out.split('\n').find((l) => l.includes(id)));

  it('prints each event type sensibly, verified with the sealed secret it opened', async () => {
    // The secret reaches it through REGISTRY: wait until a ping verifies.
    await waitFor(
      'the hook secret from REGISTRY',
      async () => {
        await post({ event_type: 'ping', event_id: 'ping-1', client_id: 1, hook_id: 9 });
        return out.includes('ping for hook 9 of client 1: signature verified (hook 9)');
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    await post({ event_type: 'load.started', event_id: 'started-1', client_id: 1, sequence: 7, integration_name: 'shopify', started_at: '2026-11-30T10:00:00.000Z', tables: [{ source_table_name: 'orders', destination_table_name: 'orders' }] });
    expect(await line('load.started')).toContain('load.started shopify.orders for client 1 at 2026-11-30T10:00:00.000Z, sequence 7: signature verified');
    await post({ event_type: 'table.loaded', event_id: 'loaded-1', client_id: 1, sequence: 8, integration_name: 'shopify', source_root_table_name: 'orders', tables: [{ source_table_name: 'orders', num_rows: 100, num_rows_rejected: 2 }] });
    expect(await line('table.loaded')).toContain('table.loaded shopify.orders (100 rows, 2 rejected) for client 1, sequence 8: signature verified');
    await post({ event_type: 'table.rejected', event_id: 'rejected-1', client_id: 1, integration_name: 'shopify', source_root_table_name: 'orders', tables: [{ num_rows: 0, num_rows_rejected: 5 }] }, `whsec_${Buffer.alloc(24, 8).toString('base64')}`);
    expect(await line('table.rejected')).toContain('table.rejected shopify.orders (0 rows, 5 rejected) for client 1: signature DID NOT verify');
    expect(out).not.toContain(secret);
  });
});
