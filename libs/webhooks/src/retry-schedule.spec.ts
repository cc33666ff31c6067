import { parseRetryAfter, RetrySchedule } from './retry-schedule';

describe('RetrySchedule', () => {
  const schedule = new RetrySchedule([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000]);
  const noJitter = () => 0.5;

  it('allows the first attempt and five retries', () => {
    expect(schedule.maxAttempts).toBe(6);
    expect([1, 2, 3, 4, 5].map((n) => schedule.delayAfter(n, undefined, noJitter))).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000]);
    expect(schedule.delayAfter(6)).toBeUndefined();
  });

  it('adds at most ±10 % jitter', () => {
    expect(schedule.delayAfter(1, undefined, () => 0)).toBe(4_500);
    expect(schedule.delayAfter(1, undefined, () => 0.999999)).toBe(5_500);
  });

  it('honours Retry-After within the schedule\'s bounds', () => {
    expect(schedule.delayAfter(1, 60_000, noJitter)).toBe(60_000);
    expect(schedule.delayAfter(1, 10, noJitter)).toBe(5_000);
    expect(schedule.delayAfter(1, 10 * 86_400_000, noJitter)).toBe(18_000_000);
  });

  it('refuses an empty schedule', () => {
    expect(() => new RetrySchedule([])).toThrow(/at least one/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(1_000_000 + 30_000).toUTCString(), 1_000_000)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
