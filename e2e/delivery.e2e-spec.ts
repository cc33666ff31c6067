import { HookUndeliverableEvent, Subjects } from '@posthooks/contracts';
import { dispatcherIdle, HttpsReceiver, rawNatsPublish, Reaction, streamMessages, TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { Webhook } from 'standardwebhooks';
import { Stack } from './support/stack';

/**
 * SPEC §5 end to end: all services as processes, an account, destination and hook made
 * through the registry's API, load events injected with raw NATS PUBs (the bytes of
 * `nats pub`), a real HTTPS receiver.
 */
describe('post-load webhooks, end to end', () => {
  let stack: Stack;
  let nc: NatsConnection;
  const receivers: HttpsReceiver[] = [];
  const receiver = async (react?: (n: number) => Reaction) => {
    const rx = await HttpsReceiver.start({ react });
    receivers.push(rx);
    return rx;
  };
  const ns = () => stack.env.NATS_NAMESPACE;

  beforeAll(async () => {
    stack = await Stack.start('e2e_delivery', { dispatcher: { DELIVERY_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms', DELIVERY_TIMEOUT_MS: '3000' } });
    // These tests read hook.undeliverable on NOTIFY, a work queue: the notifier would
    // take each event off it (emails are tested in apps/email-notifier and faults/).
    await stack.get('email-notifier').stop();
    nc = await connect({ servers: stack.env.NATS_URL });
  });
  afterAll(async () => {
    await nc.close();
    await stack.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });


  const publish = (json: object) => rawNatsPublish(stack.env.NATS_URL, `${ns()}.table.loaded`, JSON.stringify(json));

  const idle = async () => dispatcherIdle(await nc.jetstreamManager(), ns(), stack.env.DATABASE_URL);

  it('delivers one verified POST with the right body for a `nats pub table.loaded`', async () => {
    const rx = await receiver();
    const acc = await stack.account();
    const hook = await stack.hook(acc.key, acc.destinationId, rx.url());
    await stack.registryApplied('dispatcher');

    await publish({ client_id: acc.id, integration_name: 'shopify', table_name: 'orders', num_rows: 100 });
    const [req] = await rx.waitForRequests(1);
    const body = new Webhook(hook.secret).verify(req.body, req.headers as Record<string, string>) as Record<string, unknown>;
    expect(body).toMatchObject({ event_type: 'table.loaded', client_id: acc.id, integration_name: 'shopify', source_root_table_name: 'orders', tables: [{ num_rows: 100 }] });
    expect(body.event_id).toMatch(new RegExp(`^${ns().toUpperCase()}_LOADS-\\d+-\\d+$`)); // stream, sequence, stored time (nanoseconds)
    await idle();
    expect(rx.requests).toHaveLength(1);
  });

  it('makes four attempts for a receiver that fails three times, and the log shows them', async () => {
    const rx = await receiver((n) => (n < 3 ? { status: 500 } : { status: 200 }));
    const acc = await stack.account();
    const hook = await stack.hook(acc.key, acc.destinationId, rx.url());
    await stack.registryApplied('dispatcher');

    await publish({ client_id: acc.id, integration_name: 'shopify', table_name: 'orders' });
    await rx.waitForRequests(4);
    await idle();
    const log = await stack.call<{ data: { attempt: number; status: string; status_code: number }[] }>('dispatcher', 'GET', `/v1/hooks/${hook.id}/deliveries`, acc.key);
    expect(log.body.data.map((x) => [x.attempt, x.status, x.status_code])).toEqual([
      [4, 'succeeded', 200],
      [3, 'failed', 500],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
    expect(rx.requests).toHaveLength(4);
  });

  it('makes six attempts for a receiver that always fails, then one hook.undeliverable', async () => {
    const rx = await receiver(() => ({ status: 500 }));
    const acc = await stack.account();
    const hook = await stack.hook(acc.key, acc.destinationId, rx.url());
    await stack.registryApplied('dispatcher');

    await publish({ client_id: acc.id, integration_name: 'shopify', table_name: 'orders' });
    await rx.waitForRequests(6);
    await idle();
    const undeliverable = await waitFor('hook.undeliverable', async () => {
      const out = (await streamMessages(await nc.jetstreamManager(), ns(), 'NOTIFY', Subjects.HookUndeliverable)).map((m) => m.json<HookUndeliverableEvent>()).filter((u) => u.hook_id === hook.id);
      return out.length > 0 && out;
    });
    expect(undeliverable).toHaveLength(1);
    expect(undeliverable[0]).toMatchObject({ client_id: acc.id, attempts: 6, last_error: 'HTTP 500', url: rx.url() });
    expect(rx.requests).toHaveLength(6);
  });

  it('sends nothing to a downgraded account', async () => {
    const rx = await receiver();
    const acc = await stack.account('premium');
    await stack.hook(acc.key, acc.destinationId, rx.url());
    expect((await stack.call('hook-registry', 'PUT', `/v1/accounts/${acc.id}/plan`, TEST_ADMIN_TOKEN, { plan: 'standard' })).status).toBe(200);
    await stack.registryApplied('dispatcher');

    await publish({ client_id: acc.id, integration_name: 'shopify', table_name: 'orders' });
    await idle();
    expect(rx.requests).toHaveLength(0);
  });

  it('disables a hook whose receiver answers 410 Gone', async () => {
    const rx = await receiver(() => ({ status: 410 }));
    const acc = await stack.account();
    const hook = await stack.hook(acc.key, acc.destinationId, rx.url());
    await stack.registryApplied('dispatcher');

    await publish({ client_id: acc.id, integration_name: 'shopify', table_name: 'orders' });
    const gone = await waitFor('the registry to disable the hook', async () => {
      const list = await stack.call<{ post_load: { id: number; disabled_reason: string | null }[] }>('hook-registry', 'GET', '/notifications/public/v1/api/hooks', acc.key);
      const h = list.body.post_load.find((x) => x.id === hook.id);
      return h?.disabled_reason === 'endpoint_gone' && h;
    });
    expect(gone.disabled_reason).toBe('endpoint_gone');
    expect(rx.requests).toHaveLength(1);
  });
});
