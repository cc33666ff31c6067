import { RpcException } from '@nestjs/microservices';

/**
 * What a handler throws to steer the transport. They are RpcExceptions because Nest's
 * exception filter passes those through as plain objects (anything else becomes
 * "Internal server error"), and the transport reads the object back.
 */
export type HandlerVerdict = { posthooks: 'retry'; delayMs: number; reason: string } | { posthooks: 'deadletter'; reason: string };

/** Redeliver this message after `delayMs` (a `nak(delay)`); nothing is lost meanwhile. */
export class RetryLater extends RpcException {
  constructor(delayMs: number, reason = 'retry requested') {
    super({ posthooks: 'retry', delayMs, reason } satisfies HandlerVerdict);
  }
}

/** This message can never succeed: move it to DEADLETTER with the reason, then ack it. */
export class DeadLetter extends RpcException {
  constructor(reason: string) {
    super({ posthooks: 'deadletter', reason } satisfies HandlerVerdict);
  }
}

export function verdictOf(error: unknown): HandlerVerdict | undefined {
  if (typeof error !== 'object' || error === null || !('posthooks' in error)) return undefined;
  return error as HandlerVerdict;
}
