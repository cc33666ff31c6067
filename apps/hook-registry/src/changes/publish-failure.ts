/**
 * Whether a failed publish of a registry event can ever succeed. Retrying is right for
 * an outage (NATS down, JetStream timing out, a stream not there yet): the relay stops
 * and tries again in order. It is wrong for an event the server refuses for what it is
 * (bigger than the payload limit, refused by the stream with a 400): retrying that one
 * forever would hold back every change committed after it.
 */
export type PublishFailure = { kind: 'transient' } | { kind: 'permanent'; reason: string };

/** The part of nats.js's NatsError this decision reads. */
interface NatsLikeError {
  code?: unknown;
  message?: unknown;
  api_error?: { code?: unknown; err_code?: unknown; description?: unknown };
}

export function classifyPublishFailure(err: unknown): PublishFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as NatsLikeError;
  if (e.code === 'MAX_PAYLOAD_EXCEEDED') return { kind: 'permanent', reason: 'over the NATS payload limit' };
  // JetStream answered the publish with an error: a 4xx is about the message itself.
  const api = e.api_error;
  if (api && typeof api.code === 'number' && api.code >= 400 && api.code < 500) {
    return { kind: 'permanent', reason: `refused by JetStream (${api.code}${typeof api.err_code === 'number' ? `/${api.err_code}` : ''}: ${String(api.description ?? '')})` };
  }
  return { kind: 'transient' };
}
