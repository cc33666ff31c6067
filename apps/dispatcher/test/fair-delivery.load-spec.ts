import { Subjects } from '@posthooks/contracts';
import { HttpsReceiver, ReceivedRequest, waitFor } from '@posthooks/testing';
import { DataSource } from 'typeorm';
import { Dispatcher } from './dispatcher-harness';

/**
 * SPEC §5: "A delivery waiting for its next attempt holds no broker resources: any number
 * of waiting deliveries never delays another delivery, redelivery, recover or ping", and
 * "one account's burst never delays another account's first attempt by more than a
 * second" (issue 14, items 1 and 4).
 */
describe('deliveries waiting, and accounts sharing the dispatcher', () => {
  const receivers: HttpsReceiver[] = [];
  const receiver = async (status: number) => {
    const rx = await HttpsReceiver.start({ react: () => ({ status }) });
    receivers.push(rx);
    return rx;
  };
  afterAll(() => Promise.all(receivers.map((r) => r.close())));

  /** Publishes `n` table.loaded events of one account to LOADS as fast as JetStream takes them. */
  async function burst(d: Dispatcher, accountId: number, n: number, prefix: string): Promise<void> {
    const js = d.nc.jetstream();
    const subject = d.naming.subject(Subjects.TableLoaded);
    const IN_FLIGHT = 512;
    for (let i = 0; i < n; i += IN_FLIGHT) {
      await Promise.all(
        Array.from({ length: Math.min(IN_FLIGHT, n - i) }, (_, k) => {
          const eventId = `${prefix}-${i + k}`;
          return js.publish(subject, JSON.stringify({ client_id: accountId, integration_name: 'burst', table_name: 'orders', event_id: eventId }), { msgID: eventId });
        }),
      );
    }
  }

  /** The first request at `rx` for which `match` holds, and how long after `since` it arrived. */
  async function arrival(rx: HttpsReceiver, since: number, match: (r: ReceivedRequest) => boolean = () => true): Promise<number> {
    const req = await waitFor('the webhook at the receiver', () => rx.requests.find((r) => r.at >= since && match(r)), { timeoutMs: 20_000 });
    return req.at - since;
  }

  describe('10,000 deliveries waiting on a long schedule', () => {
    let d: Dispatcher;
    beforeAll(async () => (d = await Dispatcher.start('dispatch_waiting', { DELIVERY_RETRY_SCHEDULE: '10m,10m,10m,10m,10m' })));
    afterAll(() => d.stop());

    it("never delay another account's first attempt, redelivery, recover or ping by more than 2 s", async () => {
      const WAITING = 10_000;
      const dead = await receiver(503);
      const w = await d.account();
      await d.hook(w.id, dead.url());
      await burst(d, w.id, WAITING, `waiting-${w.id}`);
      const db = d.app.get(DataSource);
      // Each has failed its first attempt and waits ten minutes for the next.
      await waitFor(
        `${WAITING} deliveries waiting for their retry`,
        async () => {
          const [{ n }] = await db.query<{ n: string }[]>(`SELECT count(*) AS n FROM deliveries WHERE account_id = $1 AND state = 'pending' AND attempts = 1 AND leased_until IS NULL`, [w.id]);
          return Number(n) === WAITING;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );

      const healthy = await receiver(200);
      const b = await d.account();
      const hook = await d.hook(b.id, healthy.url());

      // A first attempt.
      let since = Date.now();
      const eventId = await d.load(b.id);
      expect(await arrival(healthy, since)).toBeLessThan(2000);
      await waitFor('the first attempt logged', async () => (await d.api<{ data: { status: string; webhook_id: string }[] }>('GET', `/v1/hooks/${hook.hook_id}/deliveries`, b.key)).body.data[0]?.status === 'succeeded');
      const [{ webhook_id: webhookId }] = (await d.api<{ data: { webhook_id: string }[] }>('GET', `/v1/hooks/${hook.hook_id}/deliveries`, b.key)).body.data;

      // A redelivery of it.
      since = Date.now();
      expect((await d.api('POST', `/v1/deliveries/${webhookId}/redeliver`, b.key)).status).toBe(202);
      expect(await arrival(healthy, since, (r) => r.headers['webhook-id'] === webhookId)).toBeLessThan(2000);

      // A recover of a delivery that failed (written as its last attempt leaves it).
      await db.query(
        `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, state, attempts, round_attempts, last_error, updated_at)
         VALUES ('msg_recover_' || $1::text, $1::int, $2::int, 'ev-recover', 'table.loaded', '{"event_id":"ev-recover"}', 'failed', 6, 6, 'HTTP 500', now())`,
        [hook.hook_id, b.id],
      );
      since = Date.now();
      expect((await d.api('POST', `/v1/hooks/${hook.hook_id}/recover`, b.key, { since: new Date(since - 60_000).toISOString() })).body).toEqual({ recovered: 1, more: false });
      expect(await arrival(healthy, since, (r) => r.headers['webhook-id'] === `msg_recover_${hook.hook_id}`)).toBeLessThan(2000);

      // A test ping, as the registry asks for it.
      since = Date.now();
      await d.publisher.publish(Subjects.HookTest, { hook_id: hook.hook_id, client_id: b.id, event_id: `ping-${b.id}`, requested_at: new Date().toISOString() }, { msgId: `ping-${b.id}` });
      expect(await arrival(healthy, since, (r) => r.body.includes('"event_type":"ping"'))).toBeLessThan(2000);

      // And the waiting ones still wait: nothing was sent to the dead endpoint again. (A first
      // attempt the loaded machine cut short, a reset, never reached the receiver: at most WAITING.)
      const ids = dead.requests.map((r) => r.headers['webhook-id']);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBeLessThanOrEqual(WAITING);
      expect(eventId).toBeDefined();
    }, 180_000);
  });

  describe("one account's burst", () => {
    let d: Dispatcher;
    beforeAll(async () => (d = await Dispatcher.start('dispatch_fair')));
    afterAll(() => d.stop());

    it("never delays another account's first attempt by more than 1 s", async () => {
      const rx = await receiver(200);
      const a = await d.account();
      await d.hook(a.id, rx.url('/a'));
      const b = await d.account();
      await d.hook(b.id, rx.url('/b'));

      await burst(d, a.id, 5000, `burst-${a.id}`);
      const since = Date.now();
      await d.load(b.id);
      const waited = await arrival(rx, since, (r) => r.path === '/b');
      // Account A's burst was still being sent when B's webhook arrived.
      const aBefore = rx.requests.filter((r) => r.path === '/a' && r.at <= since + waited).length;
      expect(waited).toBeLessThan(1000);
      expect(aBefore).toBeLessThan(5000);
      await waitFor('all of the burst', () => rx.requests.filter((r) => r.path === '/a').length >= 5000, { timeoutMs: 60_000 });
    }, 120_000);
  });
});
