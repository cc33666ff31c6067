import { decideUnknownAccount, UnknownAccountFacts } from './unknown-account';

const base: UnknownAccountFacts = { viewSequence: 10, registryLastSequence: 10, ageMs: 0, horizonMs: 60_000, deliveryCount: 1, retryBaseMs: 1000, retryMaxMs: 900_000 };

describe('decideUnknownAccount', () => {
  it.each<[string, Partial<UnknownAccountFacts>, 'retry' | 'deadletter']>([
    ['a lagging view, first delivery', { viewSequence: 3 }, 'retry'],
    ['a lagging view, past the horizon and delivered 500 times (after an outage)', { viewSequence: 9, ageMs: 3_600_000, deliveryCount: 500 }, 'retry'],
    ['an empty view (just restarted) of a stream that has events', { viewSequence: 0, ageMs: 3_600_000, deliveryCount: 50 }, 'retry'],
    ['a current view, within the horizon, delivered many times', { ageMs: 59_000, deliveryCount: 50 }, 'retry'],
    ['a current view, at the horizon', { ageMs: 60_000 }, 'deadletter'],
    ['a current view, long past the horizon, first delivery', { ageMs: 3_600_000 }, 'deadletter'],
    ['an empty stream, past the horizon', { viewSequence: 0, registryLastSequence: 0, ageMs: 61_000 }, 'deadletter'],
  ])('%s: %s', (_, facts, action) => {
    expect(decideUnknownAccount({ ...base, ...facts }, 7).action).toBe(action);
  });

  it('retries a lagging view within 5 s, whatever the delivery count', () => {
    const d = decideUnknownAccount({ ...base, viewSequence: 2, deliveryCount: 40 }, 7);
    expect(d).toMatchObject({ action: 'retry', reason: 'account 7 is not in the view yet, which has applied REGISTRY up to #2 of #10' });
    expect(d.action === 'retry' && d.delayMs).toBeLessThanOrEqual(5000);
  });

  it('never waits past the horizon for an account the current view lacks', () => {
    const d = decideUnknownAccount({ ...base, ageMs: 59_500, deliveryCount: 40 }, 7);
    expect(d.action).toBe('retry');
    expect(d.action === 'retry' && d.delayMs).toBeLessThanOrEqual(500);
    expect(decideUnknownAccount({ ...base, ageMs: 60_001 }, 7)).toEqual({ action: 'deadletter', reason: 'account 7 is unknown' });
  });
});
