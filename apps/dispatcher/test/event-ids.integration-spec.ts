import { LoadEvent, Subjects } from '@posthooks/contracts';
import { HttpsReceiver, streamName } from '@posthooks/testing';
import { connect } from 'nats';
import { Dispatcher } from './dispatcher-harness';

/** SPEC §4: `event_id` is the idempotency key; without one, the message's own identity stands in. */
describe('event ids', () => {
  let d: Dispatcher;
  let rx: HttpsReceiver;

  beforeAll(async () => {
    d = await Dispatcher.start('dispatch_event_ids');
    rx = await HttpsReceiver.start({ react: () => ({ status: 204 }) });
  });
  afterAll(async () => {
    await d.stop();
    await rx.close();
  });

  const load = (accountId: number, numRows: number) => Object.assign(new LoadEvent(), { client_id: accountId, integration_name: 'shopify', table_name: 'orders', num_rows: numRows, event_id: 'ev-conflict' });
  const eventIds = () => rx.requests.map((r) => (JSON.parse(r.body) as { event_id: string }).event_id);

  it('logs and counts an event whose id was delivered already but whose body differs, and does not deliver it again', async () => {
    const a = await d.account();
    await d.hook(a.id, rx.url('/conflicts'));
    const before = rx.requests.length;
    const conflictsBefore = await d.counter('posthooks_event_id_conflicts_total');
    await d.load(a.id, { event_id: 'ev-conflict', num_rows: 1 });
    await rx.waitForRequests(before + 1);
    // The same event published again (another message): not a conflict.
    await d.publisher.publish(Subjects.TableLoaded, load(a.id, 1), { msgId: 'ev-conflict-again' });
    await d.idle();
    expect(await d.counter('posthooks_event_id_conflicts_total')).toBe(conflictsBefore);
    // The same id with another body: logged and counted, never delivered.
    await d.publisher.publish(Subjects.TableLoaded, load(a.id, 2), { msgId: 'ev-conflict-other-body' });
    await d.idle();
    expect(await d.counter('posthooks_event_id_conflicts_total')).toBe(conflictsBefore + 1);
    expect(rx.requests).toHaveLength(before + 1);
  });

  it('gives an event without event_id or Nats-Msg-Id an id that stays unique when LOADS is deleted and created again', async () => {
    const a = await d.account();
    await d.hook(a.id, rx.url('/fallback'));
    const before = rx.requests.length;
    await d.rawLoad(a.id, { table_name: 'before_reset' });
    await rx.waitForRequests(before + 1);
    const loads = streamName(d.env.NATS_NAMESPACE, 'LOADS');
    const sequence = (await d.jsm.streams.info(loads)).state.last_seq;

    // An operator deletes LOADS; the services create it again at their next start, and
    // its sequence numbers start over from 1.
    await d.stop();
    const nc = await connect({ servers: d.env.NATS_URL });
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(loads);
    } finally {
      await nc.close();
    }
    d = await Dispatcher.start('dispatch_event_ids');
    // Events of an account without hooks until the new stream reaches the same sequence.
    const other = await d.account();
    for (let i = 1; i < sequence; i++) await d.rawLoad(other.id);
    await d.rawLoad(a.id, { table_name: 'after_reset' });
    await rx.waitForRequests(before + 2);
    expect((await d.jsm.streams.info(loads)).state.last_seq).toBe(sequence);
    const [first, second] = eventIds().slice(before);
    expect(first).not.toBe(second);
    expect(rx.requests.slice(before).map((r) => (JSON.parse(r.body) as { source_root_table_name: string }).source_root_table_name)).toEqual(['before_reset', 'after_reset']);
  });
});
