import { Subjects } from '@posthooks/contracts';
import { StreamFull, streamFullOf } from '@posthooks/messaging';
import { HttpsReceiver, PrivateNatsServer, streamName, waitFor } from '@posthooks/testing';
import { DataSource } from 'typeorm';
import { Dispatcher } from './dispatcher-harness';

/**
 * Issue 13: nothing acknowledged is lost. A delivery that exhausts its schedule while
 * NOTIFY cannot take its report (full, or NATS away) still reports it, exactly once, when
 * NOTIFY can: the report is recorded as due with the final state and cleared only once
 * NOTIFY acknowledged it.
 */
describe('the report of an undeliverable delivery', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const start = async (name: string, overrides: Record<string, string> = {}) => {
    // NOTIFY of 1 MiB (the least allowed), which a test fills with hook.gone events no one consumes here.
    const d = await Dispatcher.start(name, { STREAM_MAX_BYTES_NOTIFY: String(1024 * 1024), ...overrides });
    cleanups.push(() => stop(d));
    return d;
  };
  const stopped = new Set<Dispatcher>();
  const stop = async (d: Dispatcher) => {
    if (stopped.has(d)) return;
    stopped.add(d);
    await d.stop();
  };
  const failingReceiver = async (delayMs?: (n: number) => number | undefined) => {
    const rx = await HttpsReceiver.start({ react: (n) => ({ status: 503, body: 'down', delayMs: delayMs?.(n) }) });
    cleanups.push(() => rx.close());
    return rx;
  };

  const deliveryOf = async (d: Dispatcher, hookId: number) => {
    const [row] = await d.app.get(DataSource).query<{ state: string; report_due: string | null }[]>('SELECT * FROM deliveries WHERE hook_id = $1', [hookId]);
    return row;
  };
  const reportsOf = async (d: Dispatcher, hookId: number) => (await d.undeliverables()).filter((u) => u.hook_id === hookId);

  /** Fills NOTIFY to its last few bytes with hook.gone fillers, big ones first, until it refuses even a small one. */
  const fillNotify = async (d: Dispatcher) => {
    let i = 0;
    for (const size of [32 * 1024, 1024, 16]) {
      for (;;) {
        const refused = await d.nc
          .jetstream()
          .publish(d.naming.subject(Subjects.HookGone), 'x'.repeat(size), { msgID: `filler-${i++}` })
          .then(() => undefined, (err: unknown) => err);
        if (refused) {
          expect(streamFullOf(refused)).toBeInstanceOf(StreamFull);
          break;
        }
      }
    }
  };
  const emptyNotify = (d: Dispatcher) => d.jsm.streams.purge(streamName(d.env.NATS_NAMESPACE, 'NOTIFY'), { filter: d.naming.subject(Subjects.HookGone) });

  /** Exhausts the schedule of one delivery (six attempts answered 503) while NOTIFY is full; returns its hook and event. */
  const exhaustWhileNotifyFull = async (d: Dispatcher) => {
    const rx = await failingReceiver();
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    await fillNotify(d);
    const eventId = await d.load(a.id);
    await waitFor('the delivery to exhaust its schedule', async () => (await deliveryOf(d, hook.hook_id))?.state === 'failed', { timeoutMs: 15_000 });
    expect(rx.requests).toHaveLength(6);
    return { hookId: hook.hook_id, eventId, rx };
  };

  const expectOneReport = async (d: Dispatcher, hookId: number, eventId: string) => {
    const reported = await waitFor('the undeliverable event', async () => {
      const found = await reportsOf(d, hookId);
      return found.length > 0 && found;
    }, { timeoutMs: 20_000 });
    expect(reported).toEqual([expect.objectContaining({ event_id: eventId, hook_id: hookId, attempts: 6, last_error: 'HTTP 503', last_status_code: 503 })]);
    await waitFor('the report to be cleared', async () => !(await deliveryOf(d, hookId)).report_due);
    await d.idle();
    expect(await reportsOf(d, hookId)).toHaveLength(1);
  };

  it('reaches NOTIFY, exactly once, once NOTIFY has room again', async () => {
    const d = await start('dispatch_undeliv_full');
    const { hookId, eventId, rx } = await exhaustWhileNotifyFull(d);
    expect(await reportsOf(d, hookId)).toEqual([]);
    await emptyNotify(d);
    await expectOneReport(d, hookId, eventId);
    expect(rx.requests).toHaveLength(6);
  }, 60_000);

  it('is still owed after a restart, even one that changed the retry schedule', async () => {
    const before = await start('dispatch_undeliv_restart');
    const { hookId, eventId } = await exhaustWhileNotifyFull(before);
    await stop(before);
    // Today the operator lengthens the schedule: the delivery's six attempts no longer
    // look like an exhausted schedule, but its report is owed all the same.
    const after = await start('dispatch_undeliv_restart', { DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms,100ms' });
    expect(await reportsOf(after, hookId)).toEqual([]);
    await emptyNotify(after);
    await expectOneReport(after, hookId, eventId);
  }, 60_000);

  it('reaches NOTIFY, exactly once, after a NATS outage that began during the last attempt', async () => {
    const nats = await PrivateNatsServer.start();
    cleanups.push(() => nats.dispose());
    const d = await start('dispatch_undeliv_outage', { NATS_URL: nats.url });
    let outage: Promise<void> | undefined;
    // The sixth (last) attempt: NATS stops while the receiver takes its time to answer,
    // so the report is published into the outage.
    const rx = await failingReceiver((n) => (n === 5 ? ((outage = nats.stop()), 1500) : undefined));
    const a = await d.account();
    const hook = await d.hook(a.id, rx.url());
    const eventId = await d.load(a.id);
    await waitFor('the last attempt', () => outage !== undefined && rx.requests.length === 6, { timeoutMs: 15_000 });
    await outage;
    await waitFor('the delivery to be recorded as failed', async () => (await deliveryOf(d, hook.hook_id))?.state === 'failed', { timeoutMs: 10_000 });
    await nats.restart();
    await expectOneReport(d, hook.hook_id, eventId);
    expect(rx.requests).toHaveLength(6);
  }, 90_000);
});
