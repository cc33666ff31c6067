import { HookChangedEvent } from '@posthooks/contracts';

/**
 * How many of a throttled hook's due deliveries may be sent now (SPEC §9
 * `rate_limit_per_s`: at most that many arrivals at the receiver in any 1,000 ms), without
 * I/O. HookThrottle carries it out on the hook's log of sends in Postgres, shared by every
 * replica.
 *
 * Why it holds at the receiver whatever the network does: a send is logged when it is
 * decided (before it leaves, so before it arrives) and counts until COUNTS_FOR_MS after
 * its answer came back (after it arrived); one whose answer never came counts until its
 * lease ends (its attempt is over by then either way). Take limit + 1 arrivals within
 * WINDOW_MS and, of their sends, the one decided last, at D: it arrived after D, so every
 * other one arrived, and was answered, after D - WINDOW_MS, and was decided before D. At
 * D each of them was under way or answered less than WINDOW_MS ago: `limit` sends
 * counted, and that decision could not have sent. No guess about network delay is needed
 * (a margin after the send time would be one: a burst held up by a slow TLS handshake
 * could land within a second of the next). MARGIN_MS only absorbs clock reading: Postgres
 * stamps in microseconds, a receiver perhaps in milliseconds, and NTP slews clocks.
 */

/** The window a limit counts over: at most `limit` arrivals in any WINDOW_MS. */
export const WINDOW_MS = 1000;
/** Added to the window (see above): it costs 2 % of the throughput. */
export const MARGIN_MS = 20;
/** How long after its answer a send stops counting. */
export const COUNTS_FOR_MS = WINDOW_MS + MARGIN_MS;

/** The hook's limit as the registry set it (SPEC §9: an integer 1..1000), or null: not throttled. */
export function rateLimitOf(hook: Pick<HookChangedEvent, 'settings'> | undefined): number | null {
  const limit = hook?.settings?.rate_limit_per_s;
  return typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 ? limit : null;
}

/** What the hook's log of sends says at the moment of a decision. */
export interface SendLog {
  /** Sends that still count: under way, or answered less than COUNTS_FOR_MS ago. */
  counting: number;
  /** How long ago the earliest answered one among them was answered; null if all are under way. */
  earliestAnsweredAgoMs: number | null;
}

export interface Admission {
  /** How many of the wanted deliveries to send now (and log as sent). */
  send: number;
  /**
   * When fewer than wanted may go: in how long a send stops counting at the earliest,
   * the time to ask again (until then this replica leaves the hook's deliveries waiting).
   */
  retryInMs: number | null;
}

export function admit(log: SendLog, limit: number, wanted: number): Admission {
  const send = Math.max(0, Math.min(wanted, limit - log.counting));
  if (send === wanted) return { send, retryInMs: null };
  // A send under way (those just admitted too) is answered no sooner than now, so it
  // counts for COUNTS_FOR_MS at least; an answered one for what is left of that. With a
  // limit lowered below what counts, the first to stop counting may not make room yet:
  // then the next decision says so again.
  const earliest = log.earliestAnsweredAgoMs === null ? COUNTS_FOR_MS : COUNTS_FOR_MS - log.earliestAnsweredAgoMs;
  return { send, retryInMs: Math.max(1, Math.ceil(Math.min(earliest, COUNTS_FOR_MS))) };
}
