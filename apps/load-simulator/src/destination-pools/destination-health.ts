/** First wait after a destination failed; doubled per failure in a row, up to MAX_BACKOFF_MS. */
export const BASE_BACKOFF_MS = 2000;
export const MAX_BACKOFF_MS = 30_000;
/** A down destination is logged at most this often. */
export const LOG_EVERY_MS = 60_000;

interface Down {
  since: number;
  failures: number;
  retryAt: number;
  loggedAt: number | undefined;
}

/**
 * What the loader knows of each destination's health, and what follows from it. Plain
 * decisions, no I/O (destination-health.spec.ts): after a failure the destination is
 * left alone for a backoff that doubles up to 30 s, its messages meanwhile handed back
 * at once instead of each waiting for a flush that would fail; a failure is worth a log
 * line only if none was written for it in the last minute.
 */
export class DestinationHealth {
  private readonly down = new Map<number, Down>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds until the destination may be tried again; 0: try now (up, or its backoff is over). */
  waitFor(destinationId: number): number {
    const state = this.down.get(destinationId);
    return state ? Math.max(0, state.retryAt - this.now()) : 0;
  }

  isDown(destinationId: number): boolean {
    return this.down.has(destinationId);
  }

  /** A try failed: when to try next, and whether to log it. */
  failed(destinationId: number): { retryInMs: number; log: boolean } {
    const now = this.now();
    const state = this.down.get(destinationId) ?? { since: now, failures: 0, retryAt: now, loggedAt: undefined };
    state.failures++;
    const retryInMs = Math.min(BASE_BACKOFF_MS * 2 ** Math.min(state.failures - 1, 20), MAX_BACKOFF_MS);
    state.retryAt = now + retryInMs;
    const log = state.loggedAt === undefined || now - state.loggedAt >= LOG_EVERY_MS;
    if (log) state.loggedAt = now;
    this.down.set(destinationId, state);
    return { retryInMs, log };
  }

  /** The destination changed (a new connection): whatever failed before says nothing about it, try it now. */
  forget(destinationId: number): void {
    this.down.delete(destinationId);
  }

  /** A try worked: if the destination was down, for how long (to say it is back). */
  succeeded(destinationId: number): { downForMs: number } | undefined {
    const state = this.down.get(destinationId);
    if (!state) return undefined;
    this.down.delete(destinationId);
    return { downForMs: this.now() - state.since };
  }
}
