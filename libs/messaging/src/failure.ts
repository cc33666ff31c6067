/**
 * What a handler's failure says about the message. An `outage` is Postgres or NATS out
 * of reach (refused, cut, timed out, shutting down, full): the same message will succeed
 * once it is back, so it is retried for as long as the outage lasts and never counts
 * toward dead-lettering. Anything else is an `error`: it may be the message's fault, so
 * after failing for the dead-letter horizon it is parked.
 */
export type FailureKind = 'outage' | 'error';

/** Node's codes for a network path that does not work (now). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EADDRNOTAVAIL']);

/** nats.js codes (ErrorCode) for a server that is not there or did not answer in time. */
const NATS_CODES = new Set(['TIMEOUT', 'DISCONNECT', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'CONNECTION_REFUSED', 'CONNECTION_TIMEOUT', '503', '408']);

/** The code of publisher.ts's StreamFull: JetStream refused a publish (stream full or sealed), nothing stored. */
export const STREAM_FULL_CODE = 'STREAM_FULL';

/**
 * Postgres SQLSTATEs: class 08 (connection exception), class 53 (insufficient resources:
 * too many connections, disk full, out of memory), and the server going away
 * (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now: starting up).
 */
function isPostgresOutage(code: string): boolean {
  return /^(08|53)[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code);
}

/** What drivers say without a code: pg, pg-pool and TypeORM on a lost server, nats.js and JetStream when full or away. */
const OUTAGE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/i,
  /terminating connection due to administrator command/i,
  /server closed the connection unexpectedly/i,
  /connection is not established/i,
  /jetstream system temporarily unavailable/i,
  /insufficient (resources|storage)/i,
  /maximum (bytes|messages|messages per subject) exceeded/i,
  /no responders available/i,
  // A network code quoted by an error that wraps another without keeping it as its cause.
  /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)\b/,
];

/**
 * Classifies a failure by what it and the errors it wraps say (TypeORM's `driverError`,
 * `cause`, an AggregateError's `errors`). Plain data in, no I/O: a table-driven spec
 * covers each case.
 */
export function classifyFailure(failure: unknown): FailureKind {
  const seen = new Set<unknown>();
  const queue: unknown[] = [failure];
  while (queue.length > 0 && seen.size < 20) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const e = current as { code?: unknown; message?: unknown; cause?: unknown; driverError?: unknown; errors?: unknown; api_error?: { description?: unknown } };
    if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || NATS_CODES.has(e.code) || e.code === STREAM_FULL_CODE || isPostgresOutage(e.code))) return 'outage';
    const texts = [e.message, e.api_error?.description].filter((t): t is string => typeof t === 'string');
    if (texts.some((text) => OUTAGE_MESSAGES.some((pattern) => pattern.test(text)))) return 'outage';
    queue.push(e.cause, e.driverError, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return 'error';
}

export interface RetryPolicy {
  /** How long a message may keep failing with real errors before it is dead-lettered. */
  deadLetterAfterMs: number;
  /** First retry delay after a failure, doubled per delivery... */
  retryBaseMs: number;
  /** ...up to this. */
  retryMaxMs: number;
}

export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'deadletter'; reason: string };

/**
 * What to do with a message whose handler threw (a settlement it recorded on its context
 * first no longer counts): retry after a delay that doubles per delivery up to
 * `retryMaxMs`, or, for a real error that has kept failing for the horizon, dead-letter it. `failingForMs` is how long this
 * message has failed with real errors, delivery after delivery, with no outage, retry
 * request (`ctx.retryIn`) or success in between (0 on the first such failure).
 */
export function decideFailure(kind: FailureKind, deliveries: number, failingForMs: number, policy: RetryPolicy, reason: string): FailureDecision {
  if (kind === 'error' && failingForMs >= policy.deadLetterAfterMs) {
    return { action: 'deadletter', reason: `failed for ${Math.round(failingForMs / 1000)} s over ${deliveries} deliveries: ${reason}` };
  }
  const exponent = Math.min(Math.max(deliveries - 1, 0), 30);
  return { action: 'retry', delayMs: Math.min(policy.retryBaseMs * 2 ** exponent, policy.retryMaxMs) };
}
