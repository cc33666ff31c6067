import { retryDelayMs } from '../email/smtp-sender';

/** What the handler knows when a `hook.undeliverable` names an account its view does not have. */
export interface UnknownAccountFacts {
  /** Last REGISTRY sequence the view has applied. */
  viewSequence: number;
  /** The REGISTRY stream's last sequence, read after the account was found missing. */
  registryLastSequence: number;
  /** How long ago NOTIFY stored the event (the same on every redelivery, on every replica). */
  ageMs: number;
  /** How long an event may wait for its account (DEADLETTER_AFTER_MS). */
  horizonMs: number;
  /** 1 on the first delivery. */
  deliveryCount: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export type UnknownAccountDecision = { action: 'retry'; delayMs: number; reason: string } | { action: 'deadletter'; reason: string };

/** Retries while the view catches up are short: it applies the stream's messages in milliseconds. */
const VIEW_LAG_RETRY_MAX_MS = 5000;

/**
 * An account exists before any of its hooks, and the registry publishes it to REGISTRY
 * before them, so by the time a hook of it fails the account is in the stream. Missing
 * from the view, it is either not applied yet (the view lags: after a restart, after
 * NATS came back) or not in the stream at all. The first always waits, however many
 * times the message was delivered (an outage may have delivered it many times already).
 * The second waits for the horizon from when the event was stored, in case the
 * registry's outbox is behind, and is then dead-lettered: the account is truly unknown.
 */
export function decideUnknownAccount(f: UnknownAccountFacts, accountId: number): UnknownAccountDecision {
  const backoff = retryDelayMs(f.deliveryCount, f.retryBaseMs, f.retryMaxMs);
  if (f.viewSequence < f.registryLastSequence) {
    return { action: 'retry', delayMs: Math.min(backoff, VIEW_LAG_RETRY_MAX_MS), reason: `account ${accountId} is not in the view yet, which has applied REGISTRY up to #${f.viewSequence} of #${f.registryLastSequence}` };
  }
  const left = f.horizonMs - f.ageMs;
  if (left > 0) return { action: 'retry', delayMs: Math.max(Math.min(backoff, left), 10), reason: `account ${accountId} is not known (yet); it may still arrive for ${Math.ceil(left / 1000)} s` };
  return { action: 'deadletter', reason: `account ${accountId} is unknown` };
}
