import { HookUndeliverableEvent, Subjects } from '@posthooks/contracts';
import { dispatcherIdle, HttpsReceiver, rawNatsPublish, Reaction, ReceivedRequest, streamMessages, waitFor } from '@posthooks/testing';
import { connect, NatsConnection } from 'nats';
import { metric, Stack } from './support/stack';

/** Retry state lives in JetStream and Postgres, never only in a dispatcher's memory. */
describe('dispatcher durability', () => {
  let stack: Stack;
  let nc: NatsConnection;
  const receivers: HttpsReceiver[] = [];
  const receiver = async (react?: (n: number, req: ReceivedRequest) => Reaction) => {
    const rx = await HttpsReceiver.start({ react });
    receivers.push(rx);
    return rx;
  };

  beforeAll(async () => {
    stack = await Stack.start('e2e_durability', { dispatcher: { DELIVERY_RETRY_SCHEDULE: '1s,1s,1s,1s,1s', DELIVERY_TIMEOUT_MS: '2000' } });
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


  const idle = async () => dispatcherIdle(await nc.jetstreamManager(), stack.env.NATS_NAMESPACE, stack.env.DATABASE_URL);

  const byWebhook = (reqs: ReceivedRequest[]) => {
    const m = new Map<string, number[]>();
    for (const r of reqs) m.set(String(r.headers['webhook-id']), [...(m.get(String(r.headers['webhook-id'])) ?? []), r.at]);
    return m;
  };

  it('kill -9 in the middle of retry schedules: every delivery completes or exhausts as scheduled after a restart', async () => {
    const failing = await receiver(() => ({ status: 500 }));
    const healing = await receiver((_, req) => {
      const seen = healing.requests.filter((r) => r.headers['webhook-id'] === req.headers['webhook-id']).length;
      return seen <= 3 ? { status: 500 } : { status: 200 };
    });
    const acc = await stack.account();
    const hookFail = await stack.hook(acc.key, acc.destinationId, failing.url());
    const hookHeal = await stack.hook(acc.key, acc.destinationId, healing.url());
    await stack.registryApplied('dispatcher');

    const EVENTS = 5;
    for (let i = 0; i < EVENTS; i++) await rawNatsPublish(stack.env.NATS_URL, `${stack.env.NATS_NAMESPACE}.table.loaded`, JSON.stringify({ client_id: acc.id, integration_name: 'shopify', table_name: `t${i}` }));
    // In the middle of the schedules: second attempts under way, retries pending.
    await failing.waitForRequests(2 * EVENTS);
    await stack.get('dispatcher').kill();
    const killedAt = Date.now();
    await stack.restart('dispatcher');

    await failing.waitForRequests(6 * EVENTS, 30_000);
    await healing.waitForRequests(4 * EVENTS, 30_000);
    await idle();

    const logOf = async (hook: number) => {
      const res = await stack.call<{ data: { webhook_id: string; attempt: number; status: string }[] }>('dispatcher', 'GET', `/v1/hooks/${hook}/deliveries?limit=100`, acc.key);
      const m = new Map<string, { attempt: number; status: string }[]>();
      for (const a of res.body.data) m.set(a.webhook_id, [...(m.get(a.webhook_id) ?? []), a].sort((x, y) => x.attempt - y.attempt));
      return m;
    };
    // The log counts attempts made: 1..6 for each event to the dead receiver, each failed.
    const failLog = await logOf(hookFail.id);
    expect(failLog.size).toBe(EVENTS);
    for (const [, attempts] of failLog) expect(attempts.map((a) => `${a.attempt}:${a.status}`)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `${n}:failed`));
    // The healing receiver fails its first three requests of each event: it ends succeeded.
    const healLog = await logOf(hookHeal.id);
    expect(healLog.size).toBe(EVENTS);
    for (const [, attempts] of healLog) {
      expect(attempts.map((a) => a.attempt)).toEqual(attempts.map((_, i) => i + 1));
      expect(attempts[attempts.length - 1].status).toBe('succeeded');
    }
    // At-least-once: an attempt the kill interrupted may have reached the receiver and be
    // made again, at most once per delivery; and no attempt came before its time.
    for (const [rx, log] of [[failing, failLog], [healing, healLog]] as const) {
      for (const [id, times] of byWebhook(rx.requests)) {
        expect(times.length - log.get(id)!.length).toBeGreaterThanOrEqual(0);
        expect(times.length - log.get(id)!.length).toBeLessThanOrEqual(1);
        for (let i = 1; i < times.length; i++) {
          if (times[i - 1] < killedAt && times[i] > killedAt) continue; // across the kill
          const gap = times[i] - times[i - 1];
          if (gap < 850) throw new Error(`attempt ${i + 1} of ${id} came ${gap} ms after the previous one; times from the kill: ${times.map((t) => t - killedAt).join(', ')}; log: ${JSON.stringify(log.get(id))}`);
        }
      }
    }
    expect(failing.requests.length).toBeLessThanOrEqual(6 * EVENTS + EVENTS);

    const undeliverable = await waitFor('five undeliverable events', async () => {
      const events = await streamMessages(await nc.jetstreamManager(), stack.env.NATS_NAMESPACE, 'NOTIFY', Subjects.HookUndeliverable);
      const ids = events.map((m) => m.json<HookUndeliverableEvent>()).filter((u) => u.hook_id === hookFail.id).map((u) => u.webhook_id);
      return ids.length >= EVENTS && ids;
    });
    expect(new Set(undeliverable).size).toBe(EVENTS);
    expect(undeliverable).toHaveLength(EVENTS);
  }, 90_000);

  it('two dispatcher replicas split the work and never double it', async () => {
    const rx = await receiver();
    const acc = await stack.account();
    await stack.hook(acc.key, acc.destinationId, rx.url());
    await stack.hook(acc.key, acc.destinationId, rx.url('/second'));
    const second = await stack.replica('dispatcher');
    await stack.registryApplied('dispatcher');
    const succeeded = /^posthooks_deliveries_total\{outcome="succeeded"/;
    const before = [await metric(stack.get('dispatcher'), succeeded), await metric(second, succeeded)];

    const EVENTS = 100;
    for (let i = 0; i < EVENTS; i++) await rawNatsPublish(stack.env.NATS_URL, `${stack.env.NATS_NAMESPACE}.table.loaded`, JSON.stringify({ client_id: acc.id, integration_name: 'shopify', table_name: `t${i}` }));
    await rx.waitForRequests(2 * EVENTS, 30_000);
    await idle();

    expect(rx.requests).toHaveLength(2 * EVENTS);
    expect(byWebhook(rx.requests).size).toBe(2 * EVENTS);
    const after = [await metric(stack.get('dispatcher'), succeeded), await metric(second, succeeded)];
    const done = after.map((n, i) => n - before[i]);
    expect(done[0] + done[1]).toBe(2 * EVENTS);
    expect(done[0]).toBeGreaterThan(0);
    expect(done[1]).toBeGreaterThan(0);
  }, 60_000);
});
