import { RetrySchedule } from '@posthooks/webhooks';
import { afterAttempt, Answer, beforeAttempt, HookStatus, Outcome, Start } from './delivery-decisions';

// The default schedule, 5s,5m,30m,2h,5h: six attempts in a round.
const schedule = new RetrySchedule([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000]);
const now = new Date('2026-11-30T10:00:00.000Z');
const noJitter = () => 0.5; // 0.9 + 0.2 * 0.5 = exactly the planned delay
const at = (ms: number) => new Date(now.getTime() + ms);

describe('beforeAttempt', () => {
  it.each<[string, HookStatus, number, Start]>([
    ['a first attempt to a usable hook is sent', 'usable', 0, { action: 'send' }],
    ['a retry to a usable hook is sent', 'usable', 3, { action: 'send' }],
    ['the last attempt of the round is sent', 'usable', 5, { action: 'send' }],
    ['a round that made all six attempts (schedule shortened since) gives up', 'usable', 6, { action: 'give up' }],
    ['a deleted hook cancels', 'deleted', 0, { action: 'cancel', reason: 'hook deleted' }],
    ['a disabled hook cancels', 'disabled', 2, { action: 'cancel', reason: 'hook disabled' }],
    ['a hook that answered 410 cancels its other deliveries', 'gone', 1, { action: 'cancel', reason: 'hook disabled' }],
    ['an account downgraded off the entitlement cancels', 'not entitled', 0, { action: 'cancel', reason: 'hook disabled' }],
    ['a cancel wins over giving up', 'deleted', 6, { action: 'cancel', reason: 'hook deleted' }],
  ])('Test scenario: %s', (_, hook, roundAttempts, expected) => {
    expect(beforeAttempt(hook, roundAttempts, schedule)).toEqual(expected);
  });
});

describe('afterAttempt', () => {
  const retry = (ms: number): Outcome => ({ kind: 'retry', at: at(ms), delayMs: ms });
  it.each<[string, Answer, number, Outcome]>([
    ['a 200 succeeds', { ok: true, statusCode: 200 }, 0, { kind: 'succeeded' }],
    ['a 204 on the last attempt succeeds', { ok: true, statusCode: 204 }, 5, { kind: 'succeeded' }],
    ['a 500 on the first attempt retries after 5 s', { ok: false, statusCode: 500 }, 0, retry(5_000)],
    ['a timeout (no status) on the second attempt retries after 5 min', { ok: false, statusCode: null }, 1, retry(300_000)],
    ['a redirect is a failure', { ok: false, statusCode: 302 }, 2, retry(1_800_000)],
    ['a 410 is gone, whatever attempts are left', { ok: false, statusCode: 410 }, 0, { kind: 'gone' }],
    ['a 410 on the last attempt is gone, not undeliverable', { ok: false, statusCode: 410 }, 5, { kind: 'gone' }],
    ['a failed sixth attempt is undeliverable', { ok: false, statusCode: 500 }, 5, { kind: 'undeliverable' }],
    ['a 429 with Retry-After 60 s waits 60 s', { ok: false, statusCode: 429, retryAfterMs: 60_000 }, 0, retry(60_000)],
    ['a Retry-After under the shortest delay waits the shortest delay', { ok: false, statusCode: 503, retryAfterMs: 1_000 }, 1, retry(5_000)],
    ['a Retry-After over the longest delay waits the longest delay', { ok: false, statusCode: 503, retryAfterMs: 86_400_000 }, 0, retry(18_000_000)],
    ['a Retry-After on the last attempt does not add one', { ok: false, statusCode: 429, retryAfterMs: 1_000 }, 5, { kind: 'undeliverable' }],
  ])('Test scenario: %s', (_, answer, roundAttempts, expected) => {
    expect(afterAttempt(answer, roundAttempts, schedule, now, noJitter)).toEqual(expected);
  });

  it('Test scenario: the retry time carries the schedule jitter (±10 %)', () => {
    const early = afterAttempt({ ok: false, statusCode: 500 }, 0, schedule, now, () => 0);
    const late = afterAttempt({ ok: false, statusCode: 500 }, 0, schedule, now, () => 0.999999);
    expect(early).toEqual({ kind: 'retry', at: at(4_500), delayMs: 4_500 });
    expect(late).toEqual({ kind: 'retry', at: at(5_500), delayMs: 5_500 });
  });
});
