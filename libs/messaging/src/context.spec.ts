import { JsMsg } from 'nats';
import { JetStreamContext, Settlement } from './context';

/** The context only reads the message's stream and sequence when it records; nothing else is needed. */
const contextOf = () => new JetStreamContext({ seq: 7, info: { stream: 'LOADS' } } as unknown as JsMsg, 'table.loaded');

describe('JetStreamContext settlement', () => {
  it.each<[string, (ctx: JetStreamContext) => void, Settlement | undefined]>([
    ['a handler that records nothing: acked', () => undefined, undefined],
    ['retryIn with a reason', (ctx) => ctx.retryIn(700, 'receiver busy'), { action: 'retry', delayMs: 700, reason: 'receiver busy' }],
    ['retryIn without a reason', (ctx) => ctx.retryIn(0), { action: 'retry', delayMs: 0, reason: 'retry requested' }],
    ['deadLetter', (ctx) => ctx.deadLetter('destination 7 does not exist'), { action: 'deadletter', reason: 'destination 7 does not exist' }],
  ])('Test scenario: %s', (_, handler, expected) => {
    const ctx = contextOf();
    handler(ctx);
    expect(ctx.settlement).toEqual(expected);
  });

  it.each<[string, (ctx: JetStreamContext) => void, RegExp, Settlement | undefined]>([
    ['retryIn then deadLetter', (ctx) => (ctx.retryIn(100), ctx.deadLetter('gone')), /LOADS #7 is already settled \(retry: retry requested\)/, { action: 'retry', delayMs: 100, reason: 'retry requested' }],
    ['deadLetter then retryIn', (ctx) => (ctx.deadLetter('gone'), ctx.retryIn(100)), /already settled \(deadletter: gone\)/, { action: 'deadletter', reason: 'gone' }],
    ['retryIn twice', (ctx) => (ctx.retryIn(100, 'first'), ctx.retryIn(200, 'second')), /already settled \(retry: first\)/, { action: 'retry', delayMs: 100, reason: 'first' }],
    ['a negative delay', (ctx) => ctx.retryIn(-1), /retryIn\(-1\): the delay must be/, undefined],
    ['a delay that is not a number', (ctx) => ctx.retryIn(Number.NaN), /retryIn\(NaN\)/, undefined],
  ])('Test scenario: %s is a programming error that throws; the first settlement stays', (_, handler, message, remaining) => {
    const ctx = contextOf();
    expect(() => handler(ctx)).toThrow(message);
    // (The transport ignores it anyway: the handler threw, so it failed.)
    expect(ctx.settlement).toEqual(remaining);
  });
});
