/**
 * When the next attempt of a delivery happens. The first attempt is immediate; the
 * schedule (`DELIVERY_RETRY_SCHEDULE`, default 5s,5m,30m,2h,5h) gives the delay before
 * each retry. Delays get ±10 % jitter so that a receiver that was down for everyone is
 * not hit by all its retries at the same instant when it comes back.
 */
export class RetrySchedule {
  constructor(readonly delaysMs: readonly number[]) {
    if (delaysMs.length === 0 || delaysMs.some((d) => !(d >= 0))) throw new Error('a retry schedule needs at least one non-negative delay');
  }

  /** First attempt plus one per retry. */
  get maxAttempts(): number {
    return 1 + this.delaysMs.length;
  }

  /**
   * Milliseconds to wait after `attemptsMade` failed attempts, or undefined when none is
   * left. A receiver's Retry-After (429, 503) is followed, but only within the schedule's
   * own bounds: never sooner than its shortest delay, never later than its longest.
   */
  delayAfter(attemptsMade: number, retryAfterMs?: number, random: () => number = Math.random): number | undefined {
    if (attemptsMade >= this.maxAttempts) return undefined;
    const planned = this.delaysMs[attemptsMade - 1];
    const base = retryAfterMs === undefined ? planned : Math.min(Math.max(retryAfterMs, Math.min(...this.delaysMs)), Math.max(...this.delaysMs));
    return Math.round(base * (0.9 + 0.2 * random()));
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined if absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
