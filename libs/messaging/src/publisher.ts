import { EventOf, stringifyJson, Subject, validateEvent } from '@posthooks/contracts';
import { headers as natsHeaders, JetStreamClient, PubAck } from 'nats';
import { NatsNaming } from './naming';

export interface PublishOptions {
  /** Nats-Msg-Id: JetStream stores a message with the same id only once (2 min window). */
  msgId: string;
  headers?: Record<string, string>;
}

/**
 * Publishes contract events to JetStream. The event is validated first: a service must
 * never put on the wire what its consumers would dead-letter.
 */
export class EventPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly naming: NatsNaming,
  ) {}

  async publish<S extends Subject>(subject: S, event: EventOf<S>, options: PublishOptions): Promise<PubAck> {
    const checked = validateEvent(subject, event);
    if (!checked.ok) throw new Error(`refusing to publish an invalid event: ${checked.reason}`);
    const h = natsHeaders();
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
    // stringifyJson: a record's LosslessNumber travels as its exact digits (lossless-json).
    return this.js.publish(this.naming.subject(subject), stringifyJson(event), { msgID: options.msgId, headers: h });
  }
}
