import { HookChangedEvent } from '@posthooks/contracts';

/**
 * Which of a throttled hook's due deliveries may be sent, and when (SPEC §9
 * `rate_limit_per_s`: at most that many arrivals at the receiver in any 1,000 ms), without
 * I/O. HookThrottle carries it out on the hook's log of sends in Postgres, shared by every
 * replica.
 *
 * A send is logged when it is decided, for a time at which it may leave (now, or when a
 * logged send stops counting within the next second: a reservation, so that a freed place
 * is used as it frees, not a claim's round trip later). It counts from then until
 * COUNTS_FOR_MS after its answer came back; one whose answer never came counts until its
 * lease ends (its attempt is over by then either way).
 *
 * Why it holds at the receiver whatever the network does: take limit + 1 arrivals within
 * WINDOW_MS and, of their sends, the one decided last, for time T. It arrived after T, so
 * every other one arrived, and was answered, after T - WINDOW_MS; each was decided
 * earlier, so that decision saw it under way (counting at T) or answered then (counting
 * at T as well): `limit` sends counted at T and it could not have been given T. No guess
 * about network delay is needed (a margin after the send time would be one: a burst held
 * up by a slow TLS handshake could land within a second of the next). MARGIN_MS only
 * absorbs clock reading: Postgres stamps in microseconds, a receiver perhaps in
 * milliseconds, and NTP slews clocks.
 */

/** The window a limit counts over: at most `limit` arrivals in any WINDOW_MS. */
export const WINDOW_MS = 1000;
/** Added to the window (see above): it costs 2 % of the throughput. */
export const MARGIN_MS = 20;
/** How long after its answer a send stops counting. */
export const COUNTS_FOR_MS = WINDOW_MS + MARGIN_MS;
/** How soon a replica that could not send all it claimed for a hook asks again. */
export const RETRY_MS = COUNTS_FOR_MS / 2;

/** The hook's limit as the registry set it (SPEC §9: an integer 1..1000), or null: not throttled. */
export function rateLimitOf(hook: Pick<HookChangedEvent, 'settings'> | undefined): number | null {
  const limit = hook?.settings?.rate_limit_per_s;
  return typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 ? limit : null;
}

/** What the hook's log of sends says at the moment of a decision: the sends that still count. */
export interface SendLog {
  /** Under way (or reserved): they count for COUNTS_FOR_MS at least from now. */
  underWay: number;
  /** How long ago each answered one was answered (less than COUNTS_FOR_MS). */
  answeredAgoMs: number[];
}

export interface Admission {
  /** One per delivery that may go, oldest first: in how many ms it may leave (0: now). */
  delaysMs: number[];
  /** When fewer than wanted may go: in how long to ask again (until then this replica leaves the hook's deliveries waiting). */
  retryInMs: number | null;
}

export function admit(log: SendLog, limit: number, wanted: number): Admission {
  const delaysMs: number[] = [];
  // Places free now, then one more each time an answered send stops counting (never a
  // negative count: a limit lowered below what counts waits for enough of them).
  let free = limit - log.underWay - log.answeredAgoMs.length;
  const frees = log.answeredAgoMs.map((ago) => Math.max(0, Math.ceil(COUNTS_FOR_MS - ago))).sort((a, b) => a - b);
  for (let next = 0; delaysMs.length < wanted; ) {
    if (free > 0) {
      delaysMs.push(next === 0 ? 0 : frees[next - 1]);
      free--;
    } else if (next < frees.length) {
      free++;
      next++;
    } else break;
  }
  // Every answered send is accounted for. The ones under way (these too) count for a
  // whole window at least, but each place is best taken as soon as its send is answered:
  // asking twice a window sees every answer while its place can still be reserved in time.
  return { delaysMs, retryInMs: delaysMs.length === wanted ? null : RETRY_MS };
}
