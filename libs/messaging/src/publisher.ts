import { EventOf, stringifyJson, Subject, validateEvent } from '@posthooks/contracts';
import { headers as natsHeaders, JetStreamClient, NatsError, PubAck } from 'nats';
import { STREAM_FULL_CODE } from './failure';
import { NatsNaming } from './naming';

export interface PublishOptions {
  /** Nats-Msg-Id: JetStream stores a message with the same id only once (2 min window). */
  msgId: string;
  headers?: Record<string, string>;
  /**
   * Published on `<subject>.<key>` (a subject the contract declares keyed, e.g.
   * `ingest.records.<integration id>.<size class>`), so the stream counts messages per
   * key. A function gets the payload's bytes.
   */
  key?: string | ((payloadBytes: number) => string);
}

/** A publish JetStream stored, and the bytes of its payload. */
export type Published = PubAck & { bytes: number };

/** Seconds a publisher refused with StreamFull should wait (and tell its own callers to). */
export const STREAM_FULL_RETRY_SECONDS = 5;

/**
 * JetStream refused to store the message: its stream is full (`discard: new`) or being
 * upgraded (sealed). Nothing was stored and nothing stored was dropped; publish again
 * later. Its code makes classifyFailure (failure.ts) call it an outage, so a handler that
 * lets it through is retried with backoff for as long as the stream stays full and never
 * dead-lettered; the gateway answers 503 with Retry-After.
 */
export class StreamFull extends Error {
  readonly code = STREAM_FULL_CODE;

  constructor(readonly reason: string) {
    super(`stream full: ${reason}`);
    this.name = 'StreamFull';
  }
}

/** JetStream API error codes of a refused store (nats-server's errors.json). */
const FULL_CODES = new Set([10077 /* maximum bytes exceeded */, 10076 /* maximum messages exceeded */, 10109 /* invalid operation on sealed stream */]);

/** The StreamFull an error of a JetStream publish stands for, if it is one. */
export function streamFullOf(err: unknown): StreamFull | undefined {
  const apiError = err instanceof NatsError ? err.api_error : undefined;
  return apiError?.err_code !== undefined && FULL_CODES.has(apiError.err_code) ? new StreamFull(apiError.description ?? 'stream full') : undefined;
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

  async publish<S extends Subject>(subject: S, event: EventOf<S>, options: PublishOptions): Promise<Published> {
    const checked = validateEvent(subject, event);
    if (!checked.ok) throw new Error(`refusing to publish an invalid event: ${checked.reason}`);
    const h = natsHeaders();
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
    // stringifyJson: a record's LosslessNumber travels as its exact digits (lossless-json).
    const payload = stringifyJson(event);
    const bytes = options.key === undefined ? 0 : Buffer.byteLength(payload);
    const key = typeof options.key === 'function' ? options.key(bytes) : options.key;
    const wire = this.naming.subject(subject) + (key !== undefined ? `.${key}` : '');
    try {
      const ack = await this.js.publish(wire, payload, { msgID: options.msgId, headers: h });
      return Object.assign(ack, { bytes: bytes || Buffer.byteLength(payload) });
    } catch (err) {
      throw streamFullOf(err) ?? err;
    }
  }
}
