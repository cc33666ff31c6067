import { BaseRpcContext } from '@nestjs/microservices';
import { JsMsg } from 'nats';

/**
 * How a handler asked for its message to be settled, instead of the ack a plain return
 * gets: redelivered after `delayMs` (a `nak(delay)`), or moved to DEADLETTER and acked.
 */
export type Settlement = { action: 'retry'; delayMs: number; reason: string; quiet?: boolean } | { action: 'deadletter'; reason: string };

/**
 * What a handler can learn about the JetStream message it is handling (`@Ctx()`), and how
 * it settles it: returning acks, `retryIn(ms)` redelivers later, `deadLetter(reason)`
 * parks a message that can never succeed. The transport applies the settlement once the
 * handler has returned; a handler that throws has failed whatever it recorded (the
 * transport then retries with backoff, see failure.ts). A thrown error is for the
 * unexpected, the way nestjs-jetstream's `ctx.retry()` / `ctx.terminate()` work.
 */
export class JetStreamContext extends BaseRpcContext<[JsMsg, string]> {
  private recorded?: Settlement;

  constructor(msg: JsMsg, logicalSubject: string) {
    super([msg, logicalSubject]);
  }

  get message(): JsMsg {
    return this.args[0];
  }

  /** The contract subject, without any namespace prefix. */
  get subject(): string {
    return this.args[1];
  }

  get msgId(): string | undefined {
    return this.message.headers?.get('Nats-Msg-Id') || undefined;
  }

  get streamSequence(): number {
    return this.message.seq;
  }

  /** 1 on the first delivery, 2 on the first redelivery, ... */
  get deliveryCount(): number {
    return this.message.info.redeliveryCount;
  }

  /**
   * A stable id for the message: its Nats-Msg-Id, else stream name + sequence (SPEC §4)
   * + the time the stream stored it. A sequence alone starts over at 1 when the stream is
   * deleted and created again, and the new event would pass for one already delivered;
   * the stored time is the same on every redelivery of the message and differs between
   * the two streams' messages.
   */
  get fallbackEventId(): string {
    return this.msgId ?? `${this.message.info.stream}-${this.message.seq}-${this.message.info.timestampNanos}`;
  }

  /**
   * Redeliver this message in `delayMs` (a `nak(delay)`) once the handler returns. The
   * handler's own schedule, not a failure: it never counts toward dead-lettering. Nothing
   * is lost meanwhile, but the message holds an ack-pending slot for the whole delay:
   * keep delays short (work that waits minutes is a row with a due time). `quiet`: the
   * handler logs the reason itself (once for many messages), so the transport logs it at debug.
   */
  retryIn(delayMs: number, reason = 'retry requested', options: { quiet?: boolean } = {}): void {
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`retryIn(${delayMs}): the delay must be a finite number of milliseconds, 0 or more`);
    this.record({ action: 'retry', delayMs, reason, ...(options.quiet ? { quiet: true } : {}) });
  }

  /** This message can never succeed: once the handler returns, move it to DEADLETTER with the reason, then ack it. */
  deadLetter(reason: string): void {
    this.record({ action: 'deadletter', reason });
  }

  /** What the handler asked for; undefined: ack. Read by the transport once the handler returned. */
  get settlement(): Settlement | undefined {
    return this.recorded;
  }

  /**
   * One settlement per message: a second call (both, or one twice) throws rather than
   * letting the last win, because two code paths each deciding the fate of one message
   * is a bug to see, not to resolve silently. The throw fails the handler, so the message
   * is retried as any failure is and the error is logged with its stack.
   */
  private record(settlement: Settlement): void {
    if (this.recorded) {
      throw new Error(`message ${this.message.info.stream} #${this.message.seq} is already settled (${this.recorded.action}: ${this.recorded.reason}); a handler settles its message once`);
    }
    this.recorded = settlement;
  }
}
