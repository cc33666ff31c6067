/**
 * Counts failed authentications per client address in a sliding one-minute window
 * (SPEC §10: at most 20 per address per minute). Pure: no Nest, no I/O, the clock is an
 * argument, so the spec drives it with a table.
 *
 * Each address keeps the times of its last `limit` failures (never more), so "at most
 * `limit` in any `windowMs`" holds exactly, not only per fixed minute. Memory is bounded:
 * at most `maxAddresses` addresses are tracked, and a new one evicts the address whose
 * last failure is the oldest (a Map keeps insertion order; every failure re-inserts its
 * address at the end). An attacker who cycles through more addresses than that only
 * evicts itself sooner; each address still gets at most `limit` tries per window.
 */
export interface FailedAuthLimits {
  /** Failures allowed per address within the window. */
  limit: number;
  windowMs: number;
  /** Addresses tracked at once. */
  maxAddresses: number;
}

export const FAILED_AUTH_LIMITS: FailedAuthLimits = { limit: 20, windowMs: 60_000, maxAddresses: 10_000 };

export class FailedAuthLimiter {
  /** Address → times (ms) of its recent failures, oldest first, at most `limit`. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly limits: FailedAuthLimits = FAILED_AUTH_LIMITS) {}

  /**
   * Seconds until this address may fail again, or 0 if it may now. A refused attempt is
   * not recorded: retrying while refused does not push the end of the wait further.
   */
  retryAfterSeconds(address: string, now: number): number {
    const times = this.recent(address, now);
    if (times.length < this.limits.limit) return 0;
    return Math.max(1, Math.ceil((times[0] + this.limits.windowMs - now) / 1000));
  }

  /** Records one failed authentication from this address. */
  recordFailure(address: string, now: number): void {
    const times = this.recent(address, now);
    times.push(now);
    if (times.length > this.limits.limit) times.shift();
    this.failures.delete(address);
    if (this.failures.size >= this.limits.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, times);
  }

  /** Addresses tracked now (for the spec and a gauge). */
  get trackedAddresses(): number {
    return this.failures.size;
  }

  /** The address's failures still inside the window; forgets the address when none are. */
  private recent(address: string, now: number): number[] {
    const times = this.failures.get(address);
    if (!times) return [];
    while (times.length > 0 && times[0] <= now - this.limits.windowMs) times.shift();
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
