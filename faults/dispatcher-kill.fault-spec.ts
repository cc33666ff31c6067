import { ok, failFirst } from './support/counting-receiver';
import { midStream, Scenario } from './support/scenario';

/** Retries 300 ms apart; a short timeout makes the ack wait and lease (timeout + 5 s) short too. */
const DISPATCH = { DELIVERY_RETRY_SCHEDULE: '300ms,300ms,300ms,300ms,300ms', DELIVERY_TIMEOUT_MS: '2000' };

/**
 * kill -9 of the only dispatcher with 5,000 deliveries in flight (1,000 events x 5
 * hooks), two of the five receivers failing each delivery twice before they accept it,
 * so retries are pending at the kill. A restart must finish every delivery.
 */
describe('fault: dispatcher killed with 5,000 deliveries in flight', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('every delivery completes after a restart; nothing is lost', async () => {
    const stack = await s.startStack('fault_kill', { common: DISPATCH });
    await midStream(s, {
      title: 'dispatcher kill -9, 5,000 deliveries in flight',
      events: 1000,
      behaviours: [ok, ok, ok, failFirst(2), failFirst(2)],
      // Early: nearly all 5,000 are in flight, and the flaky receivers' retries are pending.
      faultAfter: 250,
      fault: async () => {
        const flaky = s.receivers.slice(3);
        const pending = flaky.reduce((n, r) => n + r.seen.size - r.unique, 0);
        await stack.kill('dispatcher');
        await stack.restart('dispatcher');
        return `${pending} deliveries of the flaky receivers between failed attempts at the kill`;
      },
      timeoutMs: 150_000,
    });
  });
});

describe('fault: one of two dispatchers killed mid-stream', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('the other one finishes its work and what the dead one held; nothing is lost', async () => {
    const stack = await s.startStack('fault_two', { common: DISPATCH });
    await stack.replica('dispatcher');
    await midStream(s, {
      title: 'two dispatchers, kill -9 one',
      events: 400,
      behaviours: [ok, ok, failFirst(1)],
      faultAfter: 300,
      fault: async () => {
        await stack.kill('dispatcher');
        return 'survivor not restarted';
      },
      eventsAfterFault: 100,
    });
  });
});
