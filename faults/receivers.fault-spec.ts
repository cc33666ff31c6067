import { always, Behaviour, CountingReceiver, failFirst, tally } from './support/counting-receiver';
import { publishLoads, streamCount, undeliverables } from './support/events';
import { report } from './support/report';
import { Scenario, since, waitOrExplain } from './support/scenario';

/** Retries of 200 ms to 1 s; a 1 s attempt limit, so hanging receivers time out quickly. */
const DISPATCH = { DELIVERY_RETRY_SCHEDULE: '200ms,200ms,500ms,1s,1s', DELIVERY_TIMEOUT_MS: '1000' };

/**
 * Receivers that misbehave, each behind its own hook, all for the same events. Expected
 * per receiver (SPEC §5): delivered in the end; or six failed attempts and exactly one
 * hook.undeliverable per event; or, for 410 Gone, the hook disabled (`endpoint_gone`)
 * and nothing more sent to it.
 */
describe('fault: misbehaving receivers', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await Scenario.begin();
  });
  afterAll(() => s?.end());

  it('each receiver ends delivered, undeliverable exactly once, or disabled on 410', async () => {
    const EVENTS = 20;
    const stack = await s.startStack('fault_receivers', { common: DISPATCH });
    const recovers: [string, Behaviour][] = [
      ['timeout-twice', failFirst(2, 'hang')],
      // axios-retry retries a reset twice inside one attempt: four resets span two attempts.
      ['reset-4x', failFirst(4, 'reset')],
      ['500-twice', failFirst(2, { status: 500, body: 'oops' })],
      ['429-retry-after-1s', failFirst(1, { status: 429, headers: { 'retry-after': '1' } })],
    ];
    const exhausts: [string, Behaviour, ('trusted' | 'untrusted')?][] = [
      ['timeout-always', always('hang')],
      ['reset-always', always('reset')],
      ['500-always', always({ status: 500 })],
      ['untrusted-tls', always({ status: 200 }), 'untrusted'],
    ];
    const ok: CountingReceiver[] = [];
    const dead: CountingReceiver[] = [];
    for (const [name, b] of recovers) ok.push(await s.receiver(name, b));
    for (const [name, b, tls] of exhausts) dead.push(await s.receiver(name, b, tls));
    const gone = await s.receiver('410-gone', always({ status: 410, body: 'gone' }));

    const acc = await stack.account();
    const hookOf = new Map<CountingReceiver, number>();
    for (const r of s.receivers) hookOf.set(r, (await stack.hook(acc.key, acc.destinationId, r.url())).id);
    await stack.registryApplied('dispatcher');

    const ids = await publishLoads(s.nc, s.ns, acc.id, 'rx', EVENTS);
    const goneHook = async () => {
      const list = await stack.call<{ post_load: { id: number; disabled_at: string | null; disabled_reason: string | null }[] }>('hook-registry', 'GET', '/notifications/public/v1/api/hooks', acc.key);
      return list.body.post_load.find((h) => h.id === hookOf.get(gone));
    };
    const explain = async () => `undeliverable ${[...(await undeliverables(s.nc, s.ns)).values()].flat().length}/${dead.length * EVENTS}; 410 hook ${JSON.stringify(await goneHook())}\n${await s.explain(ids)}`;
    let failure: unknown;
    try {
      await waitOrExplain('the recovering receivers to take every event', () => tally(ok, ids).lost === 0, 90_000, () => explain());
      await waitOrExplain('a hook.undeliverable for every event of every dead receiver', async () => [...(await undeliverables(s.nc, s.ns)).values()].flat().length >= dead.length * EVENTS, 90_000, () => explain());
      await waitOrExplain('the 410 hook to be disabled', async () => (await goneHook())?.disabled_reason === 'endpoint_gone', 30_000, () => explain());
      await s.dispatcherIdle(60_000);
    } catch (err) {
      failure = err;
    }

    const t = tally(ok, ids);
    const notify = await undeliverables(s.nc, s.ns);
    const undeliverableOf = (r: CountingReceiver) => notify.get(hookOf.get(r) ?? -1) ?? [];
    const undeliverableTotal = [...notify.values()].flat().length;
    const undeliverableUnique = dead.reduce((n, r) => n + new Set(undeliverableOf(r)).size, 0);
    // An exhausted (event, hook) pair without its hook.undeliverable is lost too.
    const lostUndeliverable = dead.length * EVENTS - undeliverableUnique;
    // The wait that Retry-After asked for (1 s, the schedule's longest delay) instead of the planned 200 ms.
    const rateLimited = ok[3];
    const gaps = [...rateLimited.seen.keys()].map((id) => {
      const at = rateLimited.all.filter((r) => r.headers['webhook-id'] === id).map((r) => r.at);
      return at[1] - at[0];
    });
    const goneState = await goneHook();
    report({
      name: 'misbehaving receivers (timeout, reset, 500, 429, 410, untrusted TLS)',
      events: EVENTS,
      expected: t.expected,
      delivered: t.unique,
      duplicates: t.duplicates,
      lost: t.lost + lostUndeliverable,
      notes:
        `hook.undeliverable ${undeliverableTotal} for ${dead.length * EVENTS} exhausted deliveries (${undeliverableUnique} distinct; ${dead.map((r) => `${r.name} ${undeliverableOf(r).length}`).join(', ')}); ` +
        `410 hook ${goneState?.disabled_reason ?? 'NOT disabled'} after ${gone.requests} requests, ${undeliverableOf(gone).length} undeliverable; ` +
        `Retry-After: shortest wait after a 429 ${Math.min(...gaps)} ms; LOADS stored ${await streamCount(s.nc, s.ns, 'LOADS')}`,
      seconds: since(s.t0),
    });
    if (failure) throw failure;

    expect(t.missing).toEqual([]);
    for (const r of dead) {
      // Exactly one per event: six failed attempts each, then one report.
      expect({ receiver: r.name, undeliverable: undeliverableOf(r).length, distinct: new Set(undeliverableOf(r)).size }).toEqual({ receiver: r.name, undeliverable: EVENTS, distinct: EVENTS });
      if (r.name !== 'untrusted-tls') expect({ receiver: r.name, successes: r.unique }).toEqual({ receiver: r.name, successes: 0 });
    }
    for (const r of ok) expect({ receiver: r.name, undeliverable: undeliverableOf(r).length }).toEqual({ receiver: r.name, undeliverable: 0 });
    // The TLS handshake fails, so the untrusted receiver never sees a request.
    expect(dead[3].requests).toBe(0);
    expect(goneState).toMatchObject({ disabled_reason: 'endpoint_gone', disabled_at: expect.any(String) });
    expect(undeliverableOf(gone)).toEqual([]);
    // Each delivery to the gone endpoint is tried at most once, none after the hook was disabled.
    expect(gone.requests).toBeGreaterThanOrEqual(1);
    expect(gone.requests).toBeLessThanOrEqual(EVENTS);
    expect([...gone.seen.values()].every((n) => n === 1)).toBe(true);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(850);
  });
});
