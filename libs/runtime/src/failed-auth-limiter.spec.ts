import { FailedAuthLimiter } from './failed-auth-limiter';

type Step = { at: number; address: string } & ({ fail: true } | { expectRetryAfter: number });

/** Runs failures and checks against one limiter; each check names the wait it expects (0: allowed). */
function run(steps: Step[], limits = { limit: 3, windowMs: 60_000, maxAddresses: 100 }): FailedAuthLimiter {
  const limiter = new FailedAuthLimiter(limits);
  for (const step of steps) {
    if ('fail' in step) limiter.recordFailure(step.address, step.at);
    else expect([step.at, step.address, limiter.retryAfterSeconds(step.address, step.at)]).toEqual([step.at, step.address, step.expectRetryAfter]);
  }
  return limiter;
}

const fail = (at: number, address = 'a'): Step => ({ at, address, fail: true });
const check = (at: number, expectRetryAfter: number, address = 'a'): Step => ({ at, address, expectRetryAfter });

describe('FailedAuthLimiter', () => {
  it.each<[string, Step[]]>([
    ['Test scenario: an address that never failed may try', [check(0, 0)]],
    ['Test scenario: fewer failures than the limit leave the address allowed', [fail(0), fail(1), check(2, 0)]],
    ['Test scenario: the limit reached refuses until the oldest failure leaves the window', [fail(0), fail(10_000), fail(20_000), check(20_001, 40)]],
    ['Test scenario: Retry-After rounds up and is at least one second', [fail(0), fail(1), fail(2), check(59_999, 1), check(59_000, 1), check(58_500, 2)]],
    ['Test scenario: once the oldest failure is a full window old, one more try is allowed', [fail(0), fail(10_000), fail(20_000), check(60_000, 0)]],
    ['Test scenario: sliding, not fixed: a burst at the end of one minute still counts at the start of the next', [fail(59_000), fail(59_500), fail(59_900), check(61_000, 58)]],
    ['Test scenario: after the wait the address gets only as many tries as have left the window', [fail(0), fail(30_000), fail(30_001), fail(60_000), check(60_000, 30)]],
    ['Test scenario: another address is not affected', [fail(0), fail(1), fail(2), check(3, 60, 'a'), check(3, 0, 'b')]],
    ['Test scenario: a whole quiet window forgets the address', [fail(0), fail(1), fail(2), check(200_000, 0), fail(200_000), fail(200_001), check(200_002, 0)]],
  ])('%s', (_, steps) => {
    run(steps);
  });

  it('Test scenario: more failures than the limit keep only the last ones (bounded per address)', () => {
    const limiter = run([fail(0), fail(1), fail(2), fail(3), fail(4)]);
    // The kept failures are 2, 3 and 4: allowed again when 2 leaves the window.
    expect(limiter.retryAfterSeconds('a', 60_001)).toBe(1);
    expect(limiter.retryAfterSeconds('a', 60_002)).toBe(0);
  });

  it('Test scenario: the number of addresses is capped; a new one evicts the one whose last failure is oldest', () => {
    const limiter = new FailedAuthLimiter({ limit: 1, windowMs: 60_000, maxAddresses: 2 });
    limiter.recordFailure('a', 0);
    limiter.recordFailure('b', 1);
    limiter.recordFailure('a', 2); // a's last failure is now newer than b's
    limiter.recordFailure('c', 3); // evicts b
    expect(limiter.trackedAddresses).toBe(2);
    expect(limiter.retryAfterSeconds('a', 4)).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('b', 4)).toBe(0);
    expect(limiter.retryAfterSeconds('c', 4)).toBeGreaterThan(0);
  });

  it('Test scenario: 10,000 distinct addresses never track more than the cap', () => {
    const limiter = new FailedAuthLimiter({ limit: 20, windowMs: 60_000, maxAddresses: 1000 });
    for (let i = 0; i < 10_000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 255}`, i);
    expect(limiter.trackedAddresses).toBe(1000);
  });
});
