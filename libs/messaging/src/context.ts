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

  /** A stable id for the message: its Nats-Msg-Id, else stream name + sequence (SPEC §4). */
  get fallbackEventId(): string {
    return this.msgId ?? `${this.message.info.stream}-${this.message.seq}`;
  }
}
