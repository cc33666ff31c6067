import { Inject, Injectable, Logger } from '@nestjs/common';
import { HookRegistryEnv } from '@posthooks/config';
import { HookVerifyReply, HookVerifyRequest, Subjects, validateEvent } from '@posthooks/contracts';
import { NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import type { NatsConnection } from 'nats';

/** The verify result when no dispatcher answered in time (none running, or too slow). */
export const NO_ANSWER: HookVerifyReply = { status_code: null, duration_ms: null, error: 'the dispatcher did not answer' };
const UNREADABLE: HookVerifyReply = { status_code: null, duration_ms: null, error: "the dispatcher's answer could not be read" };

const isIntOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 0);

/** The dispatcher's reply, if it has the shape of a HookVerifyReply; only its three fields are kept. */
export function readVerifyReply(text: string): HookVerifyReply | undefined {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof reply !== 'object' || reply === null) return undefined;
  const { status_code, duration_ms, error } = reply as Record<string, unknown>;
  if (!isIntOrNull(status_code) || !isIntOrNull(duration_ms) || !(error === null || typeof error === 'string')) return undefined;
  return { status_code: status_code as number | null, duration_ms: duration_ms as number | null, error: (error as string | null)?.slice(0, 1024) ?? null };
}

/**
 * Asks a dispatcher to ping a hook now (`hook.verify`, a core NATS request: nothing is
 * stored, one dispatcher replica answers) and waits for the receiver's answer.
 */
@Injectable()
export class HookVerifier {
  private readonly log = new Logger('HookVerifier');

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  async verify(request: HookVerifyRequest): Promise<HookVerifyReply> {
    // Never put on the wire what the dispatcher would refuse.
    const checked = validateEvent(Subjects.HookVerify, request);
    if (!checked.ok) throw new Error(`refusing to send an invalid hook.verify request: ${checked.reason}`);
    let text: string;
    try {
      const reply = await this.nc.request(this.naming.subject(Subjects.HookVerify), JSON.stringify(request), { timeout: this.env.HOOK_VERIFY_TIMEOUT_MS });
      text = reply.string();
    } catch (err) {
      // No responder (503), a timeout, or NATS away: the settings are saved all the same.
      this.log.warn(`hook ${request.hook.hook_id}: verify ${request.event_id} got no answer (${(err as { code?: string }).code ?? (err as Error).message})`);
      return NO_ANSWER;
    }
    const reply = readVerifyReply(text);
    if (!reply) this.log.warn(`hook ${request.hook.hook_id}: verify ${request.event_id} got an answer that is not a HookVerifyReply`);
    return reply ?? UNREADABLE;
  }
}
