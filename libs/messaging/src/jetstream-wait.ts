import { Logger } from '@nestjs/common';
import { ErrorCode, NatsError } from 'nats';

/** How long a starting service waits for JetStream to accept its streams (SPEC §1). */
export const JETSTREAM_WAIT_MS = 5 * 60_000;

const log = new Logger('JetStream');

/**
 * Whether `err` is what a JetStream cluster answers while it is still forming or placing
 * replicas, rather than a refusal that waiting would not change: an API call that timed
 * out (an R3 stream takes seconds to create while the meta group settles), "JetStream
 * system temporarily unavailable" (no meta leader yet), "no suitable peers for
 * placement" (peers not yet known to the leader).
 */
export function isJetStreamForming(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof NatsError) {
    if (err.code === ErrorCode.Timeout) return true;
    const apiCode = err.api_error?.err_code;
    if (apiCode === 10008 || apiCode === 10005) return true;
  }
  return /no suitable peers|temporarily unavailable|^TIMEOUT$/i.test(err.message);
}

export interface WaitOptions {
  /** Give up (rethrow the last error) after this long; default JETSTREAM_WAIT_MS. */
  limitMs?: number;
  /** First pause; doubled after each failure up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Runs `step` until it succeeds; while it fails because JetStream is still forming
 * (isJetStreamForming), waits with backoff and tries again, for up to `limitMs`. Any
 * other error, and the last one after the limit, is thrown. `step` must be idempotent
 * (provisioning is).
 */
export async function whileJetStreamForms<T>(what: string, step: () => Promise<T>, options: WaitOptions = {}): Promise<T> {
  const { limitMs = JETSTREAM_WAIT_MS, baseDelayMs = 500, maxDelayMs = 10_000, sleep = defaultSleep, now = Date.now } = options;
  const deadline = now() + limitMs;
  let delay = baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isJetStreamForming(err)) throw err;
      const left = deadline - now();
      if (left <= 0) throw new Error(`${what}: JetStream did not become available within ${Math.round(limitMs / 1000)} s (${(err as Error).message})`);
      log.warn(`${what}: JetStream not available yet (${(err as Error).message}); attempt ${attempt}, trying again in ${delay} ms`);
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
