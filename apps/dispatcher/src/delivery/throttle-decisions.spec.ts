import { admit, Admission, COUNTS_FOR_MS, MARGIN_MS, RETRY_MS, rateLimitOf, SendLog, WINDOW_MS } from './throttle-decisions';

const log = (underWay: number, answeredAgoMs: number[] = []): SendLog => ({ underWay, answeredAgoMs });
const answered = (n: number, agoMs: number) => Array.from({ length: n }, () => agoMs);
const now = (n: number) => Array.from({ length: n }, () => 0);

describe('admit', () => {
  it.each<[string, SendLog, number, number, Admission]>([
    ['nothing counting: all wanted go now, up to the limit', log(0), 5, 3, { delaysMs: now(3), retryInMs: null }],
    ['nothing counting, more wanted than the limit: the limit goes, the rest asks again half a window on', log(0), 5, 16, { delaysMs: now(5), retryInMs: RETRY_MS }],
    ['room for exactly what is wanted: all go now', log(3), 5, 2, { delaysMs: now(2), retryInMs: null }],
    ['exactly the limit under way: none goes, ask again half a window on', log(5), 5, 4, { delaysMs: [], retryInMs: RETRY_MS }],
    ['exactly the limit counting, answered 200 ms ago: each goes as a place frees', log(0, answered(5, 200)), 5, 2, { delaysMs: [COUNTS_FOR_MS - 200, COUNTS_FOR_MS - 200], retryInMs: null }],
    ['answered at different times: in the order they stop counting', log(2, [100, 900, 500]), 5, 3, { delaysMs: [COUNTS_FOR_MS - 900, COUNTS_FOR_MS - 500, COUNTS_FOR_MS - 100], retryInMs: null }],
    ['one place free now, then the answered ones', log(3, [700]), 5, 3, { delaysMs: [0, COUNTS_FOR_MS - 700], retryInMs: RETRY_MS }],
    ['an answer 1,000 ms old still counts for the margin', log(4, [WINDOW_MS]), 5, 1, { delaysMs: [MARGIN_MS], retryInMs: null }],
    ['an answer just short of stopping to count: goes in 1 ms', log(4, [COUNTS_FOR_MS - 0.2]), 5, 1, { delaysMs: [1], retryInMs: null }],
    ['N=1, one under way: none goes', log(1), 1, 3, { delaysMs: [], retryInMs: RETRY_MS }],
    ['N=1, one answered 10 ms ago: one goes a window after that answer', log(0, [10]), 1, 3, { delaysMs: [COUNTS_FOR_MS - 10], retryInMs: RETRY_MS }],
    ['N=1, nothing counting: one goes now', log(0), 1, 3, { delaysMs: [0], retryInMs: RETRY_MS }],
    ['N=1000, 990 under way: ten of sixteen go now', log(990), 1000, 16, { delaysMs: now(10), retryInMs: RETRY_MS }],
    ['N=1000, 999 under way and one answered: one, when that one frees', log(999, [500]), 1000, 16, { delaysMs: [COUNTS_FOR_MS - 500], retryInMs: RETRY_MS }],
    ['N=1000, all answered: sixteen as the first sixteen free', log(0, answered(1000, 400)), 1000, 16, { delaysMs: answered(16, COUNTS_FOR_MS - 400), retryInMs: null }],
    ['a limit lowered below what counts: only once enough have stopped counting', log(0, [100, 300, 200]), 2, 2, { delaysMs: [COUNTS_FOR_MS - 200, COUNTS_FOR_MS - 100], retryInMs: null }],
    ['a limit lowered far below: none goes before the under-way ones end', log(50, [100]), 5, 2, { delaysMs: [], retryInMs: RETRY_MS }],
  ])('Test scenario: %s', (_, sendLog, limit, wanted, expected) => {
    expect(admit(sendLog, limit, wanted)).toEqual(expected);
  });
});

describe('rateLimitOf', () => {
  it.each<[string, unknown, number | null]>([
    ['a hook without settings (an older registry) is not throttled', undefined, null],
    ['a null limit is none', { rate_limit_per_s: null }, null],
    ['a limit is read', { rate_limit_per_s: 50 }, 50],
    ['a value the registry never sends (0, a fraction, a string) is no limit rather than a stop', { rate_limit_per_s: 0.5 }, null],
    ['a string is no limit', { rate_limit_per_s: '5' }, null],
  ])('Test scenario: %s', (_, settings, expected) => {
    expect(rateLimitOf({ settings } as never)).toBe(expected);
    expect(rateLimitOf(undefined)).toBeNull();
  });
});

/**
 * The argument of throttle-decisions.ts, checked by simulation: replicas decide in turns
 * on a shared log (the rows of hook_sends, as HookThrottle's SQL reads them), each send
 * arrives after a random network delay (sometimes a slow handshake), is answered later
 * still, and its answer is recorded later again. Whatever the delays, no 1,000 ms window
 * at the receiver holds more than the limit.
 */
describe('the throttle under random network delays (simulated)', () => {
  /** A seeded generator: the same runs every time. */
  function random(seed: number): () => number {
    let s = seed;
    return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  }

  function simulate(limit: number, seed: number): { arrivals: number[]; spanMs: number } {
    const rnd = random(seed);
    const LEASE_MS = 36_000;
    /** hook_sends: each row's ends_by (ms), updated when the answer is recorded. */
    const rows: { endsBy: number }[] = [];
    const pending: { at: number; apply: () => void }[] = [];
    const arrivals: number[] = [];
    let now = 0;
    const TOTAL = limit * 6;
    let sent = 0;
    while (sent < TOTAL) {
      now += rnd() * 30; // the next claim of some replica
      for (const p of pending.filter((p) => p.at <= now)) p.apply();
      pending.splice(0, pending.length, ...pending.filter((p) => p.at > now));
      // What the decision's SELECT computes.
      const counting = rows.filter((r) => r.endsBy > now - COUNTS_FOR_MS);
      rows.splice(0, rows.length, ...counting); // the decision's DELETE
      const sendLog = { underWay: counting.filter((r) => r.endsBy > now).length, answeredAgoMs: counting.filter((r) => r.endsBy <= now).map((r) => now - r.endsBy) };
      const wanted = 1 + Math.floor(rnd() * 16);
      const { delaysMs } = admit(sendLog, limit, Math.min(wanted, TOTAL - sent));
      for (const delayMs of delaysMs) {
        const row = { endsBy: now + delayMs + LEASE_MS };
        rows.push(row);
        // A slow TLS handshake now and then, otherwise a few ms; the receiver answers after it read the request.
        const arrival = now + delayMs + (rnd() < 0.1 ? 200 + rnd() * 800 : rnd() * 20);
        const answer = arrival + rnd() * 50;
        const recorded = answer + rnd() * 40;
        arrivals.push(arrival);
        pending.push({ at: recorded, apply: () => (row.endsBy = recorded) });
      }
      sent += delaysMs.length;
    }
    arrivals.sort((a, b) => a - b);
    return { arrivals, spanMs: arrivals[arrivals.length - 1] - arrivals[0] };
  }

  it.each([1, 5, 50, 1000])('Test scenario: N=%i over 6 s worth of sends from several replicas', (limit) => {
    for (const seed of limit < 1000 ? [1, 2, 3] : [1]) {
      const { arrivals, spanMs } = simulate(limit, seed);
      let densest = 0;
      for (let i = 0, j = 0; j < arrivals.length; j++) {
        while (arrivals[j] - arrivals[i] >= WINDOW_MS) i++;
        densest = Math.max(densest, j - i + 1);
      }
      expect(densest).toBeLessThanOrEqual(limit);
      // And not needlessly slow: 6 windows' worth in well under 6 windows each stretched by the slowest send.
      expect(spanMs).toBeLessThan(6 * (COUNTS_FOR_MS + 1200));
    }
  });
});
