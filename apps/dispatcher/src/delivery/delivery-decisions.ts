import { RetrySchedule } from '@posthooks/webhooks';

/**
 * Every decision of a delivery's life, without I/O: plain data in, a decision out, so the
 * table-driven spec beside this file covers them in milliseconds. The attempt routine
 * (DeliveryWorker.attempt) carries them out; the claim (DeliveryStore.claim) only ever
 * hands it deliveries whose time has come, so "wait until T" is always the outcome of an
 * attempt (`retry` at T), recorded as the delivery's `next_attempt_at`.
 */

/** What the registry view says now of the hook a delivery goes to. */
export type HookStatus = 'usable' | 'deleted' | 'disabled' | 'gone' | 'not entitled';

/** Before the attempt of a delivery that came due. */
export type Start =
  /** Make the attempt now. */
  | { action: 'send' }
  /** The hook may no longer be sent to: the delivery ends as `cancelled` (recover re-sends it). */
  | { action: 'cancel'; reason: string }
  /** The round has made every attempt the schedule allows (it was shortened since): undeliverable, reported. */
  | { action: 'give up' };

const CANCEL_REASON: Record<Exclude<HookStatus, 'usable'>, string> = {
  deleted: 'hook deleted',
  disabled: 'hook disabled',
  gone: 'hook disabled',
  'not entitled': 'hook disabled',
};

export function beforeAttempt(hook: HookStatus, roundAttempts: number, schedule: RetrySchedule): Start {
  if (hook !== 'usable') return { action: 'cancel', reason: CANCEL_REASON[hook] };
  if (roundAttempts >= schedule.maxAttempts) return { action: 'give up' };
  return { action: 'send' };
}

/** What an attempt's answer tells (WebhookSender's AttemptResult, the part decisions read). */
export interface Answer {
  ok: boolean;
  statusCode: number | null;
  /** A 429's or 503's Retry-After, in milliseconds. */
  retryAfterMs?: number;
}

/** What an attempt makes of its delivery. */
export type Outcome =
  /** A 2xx: delivered. */
  | { kind: 'succeeded' }
  /** Failed, and the schedule has another attempt: it waits until `at` (Retry-After honoured within the schedule's bounds). */
  | { kind: 'retry'; at: Date; delayMs: number }
  /** 410: no more attempts; reported as hook.gone, so the registry disables the hook. */
  | { kind: 'gone' }
  /** Failed, and it was the round's last attempt: reported as hook.undeliverable (the account's email). */
  | { kind: 'undeliverable' };

/**
 * The outcome of attempt number `roundAttempts + 1` of the delivery's round. `random`
 * is the schedule's jitter (Math.random in production, fixed in the spec).
 */
export function afterAttempt(answer: Answer, roundAttempts: number, schedule: RetrySchedule, now: Date, random: () => number = Math.random): Outcome {
  if (answer.ok) return { kind: 'succeeded' };
  if (answer.statusCode === 410) return { kind: 'gone' };
  const delayMs = schedule.delayAfter(roundAttempts + 1, answer.retryAfterMs, random);
  if (delayMs === undefined) return { kind: 'undeliverable' };
  return { kind: 'retry', at: new Date(now.getTime() + delayMs), delayMs };
}
