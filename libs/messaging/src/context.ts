import { BaseRpcContext } from '@nestjs/microservices';
import { JsMsg } from 'nats';

/** What a handler can learn about the JetStream message it is handling (`@Ctx()`). */
export class JetStreamContext extends BaseRpcContext<[JsMsg, string]> {
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
}
