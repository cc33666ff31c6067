import { BASE_BACKOFF_MS, DestinationHealth, LOG_EVERY_MS, MAX_BACKOFF_MS } from './destination-health';

describe('DestinationHealth', () => {
  let now = 0;
  const health = () => new DestinationHealth(() => now);
  beforeEach(() => (now = 1_000_000));

  it('Test scenario: an up destination is tried at once', () => {
    expect(health().waitFor(1)).toBe(0);
  });

  it('Test scenario: failures back off, doubling up to the cap, and only this destination waits', () => {
    const h = health();
    const waits = Array.from({ length: 8 }, () => h.failed(1).retryInMs);
    expect(waits).toEqual([BASE_BACKOFF_MS, 4000, 8000, 16000, MAX_BACKOFF_MS, MAX_BACKOFF_MS, MAX_BACKOFF_MS, MAX_BACKOFF_MS]);
    expect(h.waitFor(1)).toBe(MAX_BACKOFF_MS);
    expect(h.waitFor(2)).toBe(0);
    now += MAX_BACKOFF_MS;
    expect(h.waitFor(1)).toBe(0);
    expect(h.isDown(1)).toBe(true);
  });

  it('Test scenario: a destination failing all the time is logged once a minute, not once per failure', () => {
    const h = health();
    const logged: number[] = [];
    for (let second = 0; second < 180; second++) {
      if (h.failed(1).log) logged.push(second);
      now += 1000;
    }
    expect(logged).toEqual([0, LOG_EVERY_MS / 1000, (2 * LOG_EVERY_MS) / 1000]);
  });

  it('Test scenario: a success ends the outage, says how long it lasted, and the next failure starts over', () => {
    const h = health();
    h.failed(1);
    now += 45_000;
    h.failed(1);
    expect(h.succeeded(1)).toEqual({ downForMs: 45_000 });
    expect(h.succeeded(1)).toBeUndefined();
    expect(h.waitFor(1)).toBe(0);
    expect(h.failed(1)).toEqual({ retryInMs: BASE_BACKOFF_MS, log: true });
  });

  it('Test scenario: a destination given a new connection is tried at once, its old backoff forgotten', () => {
    const h = health();
    h.failed(1);
    h.failed(1);
    expect(h.waitFor(1)).toBeGreaterThan(0);
    h.forget(1);
    expect(h.waitFor(1)).toBe(0);
    expect(h.isDown(1)).toBe(false);
  });
});
