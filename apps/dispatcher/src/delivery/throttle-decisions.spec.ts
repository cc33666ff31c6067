import { admit, Admission, COUNTS_FOR_MS, MARGIN_MS, rateLimitOf, SendLog, WINDOW_MS } from './throttle-decisions';

const log = (counting: number, earliestAnsweredAgoMs: number | null = null): SendLog => ({ counting, earliestAnsweredAgoMs });

describe('admit', () => {
  it.each<[string, SendLog, number, number, Admission]>([
    ['nothing counting: all wanted go, up to the limit', log(0), 5, 3, { send: 3, retryInMs: null }],
    ['nothing counting, more wanted than the limit: the limit goes, the rest asks again when the first answer is a window old', log(0), 5, 16, { send: 5, retryInMs: COUNTS_FOR_MS }],
    ['room for exactly what is wanted: all go', log(3), 5, 2, { send: 2, retryInMs: null }],
    ['exactly the limit counting: none goes', log(5, 200), 5, 1, { send: 0, retryInMs: COUNTS_FOR_MS - 200 }],
    ['exactly the limit counting, all under way: none goes, ask again a whole window on', log(5), 5, 4, { send: 0, retryInMs: COUNTS_FOR_MS }],
    ['one short of the limit: one goes', log(4, 999), 5, 4, { send: 1, retryInMs: COUNTS_FOR_MS - 999 }],
    ['an answer 1,000 ms old still counts for the margin', log(5, WINDOW_MS), 5, 1, { send: 0, retryInMs: MARGIN_MS }],
    ['an answer just short of stopping to count: ask again in 1 ms, never 0', log(5, COUNTS_FOR_MS - 0.2), 5, 1, { send: 0, retryInMs: 1 }],
    ['N=1, one counting: none goes', log(1, 10), 1, 3, { send: 0, retryInMs: COUNTS_FOR_MS - 10 }],
    ['N=1, nothing counting: one goes', log(0), 1, 3, { send: 1, retryInMs: COUNTS_FOR_MS }],
    ['N=1000, 990 counting: ten of sixteen go', log(990, 500), 1000, 16, { send: 10, retryInMs: COUNTS_FOR_MS - 500 }],
    ['N=1000, 999 counting: one goes', log(999, 1), 1000, 16, { send: 1, retryInMs: COUNTS_FOR_MS - 1 }],
    ['N=1000, 1000 counting: none goes', log(1000, 0), 1000, 16, { send: 0, retryInMs: COUNTS_FOR_MS }],
    ['a limit lowered below what counts: none goes (never a negative count)', log(50, 300), 5, 2, { send: 0, retryInMs: COUNTS_FOR_MS - 300 }],
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
      const answered = counting.filter((r) => r.endsBy <= now).map((r) => r.endsBy);
      const sendLog = { counting: counting.length, earliestAnsweredAgoMs: answered.length ? now - Math.min(...answered) : null };
      const wanted = 1 + Math.floor(rnd() * 16);
      const { send } = admit(sendLog, limit, Math.min(wanted, TOTAL - sent));
      for (let i = 0; i < send; i++) {
        const row = { endsBy: now + LEASE_MS };
        rows.push(row);
        // A slow TLS handshake now and then, otherwise a few ms; the receiver answers after it read the request.
        const arrival = now + (rnd() < 0.1 ? 200 + rnd() * 800 : rnd() * 20);
        const answer = arrival + rnd() * 50;
        const recorded = answer + rnd() * 40;
        arrivals.push(arrival);
        pending.push({ at: recorded, apply: () => (row.endsBy = recorded) });
      }
      sent += send;
    }
    arrivals.sort((a, b) => a - b);
    return { arrivals, spanMs: arrivals[arrivals.length - 1] - arrivals[0] };
  }

  it.each([1, 5, 50, 1000])('Test scenario: N=%i over 6 s worth of sends from several replicas', (limit) => {
    for (const seed of [1, 2, 3]) {
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
