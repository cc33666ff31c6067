import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EmailNotifierEnv } from '@posthooks/config';
import { HookUndeliverableEvent, Streams, Subjects } from '@posthooks/contracts';
import { JetStreamContext, NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import type { NatsConnection } from 'nats';
import { EmailOutbox } from '../email/email-outbox';
import { undeliverableEvents } from '../metrics';
import { UndeliverableRecorder } from './undeliverable-recorder';
import { decideUnknownAccount } from './unknown-account';

/**
 * `hook.undeliverable` from NOTIFY (SPEC §6). The handler only records what the event
 * becomes (an email, a fold into a digest, nothing for an opted-out account); returning
 * acks the message after the record committed. The outbox sends. An event of an account
 * the registry view does not know (yet) is retried or dead-lettered through the context
 * (unknown-account.ts decides which).
 *
 * The exactly-once key is the message's Nats-Msg-Id, which the dispatcher sets to
 * `undeliverable-<webhook_id>-<round>`: a redelivery or a re-publish of the same round
 * is one email however late it comes (the stream's own de-duplication lasts 2 minutes),
 * while a replayed delivery that fails again (a new round) is a new event and a new email.
 */
@Controller()
export class UndeliverableController {
  private readonly log = new Logger('Undeliverable');

  constructor(
    private readonly recorder: UndeliverableRecorder,
    private readonly outbox: EmailOutbox,
    private readonly view: RegistryView,
    @Inject(EmailNotifierEnv) private readonly env: EmailNotifierEnv,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly naming: NatsNaming,
  ) {}

  @EventPattern(Subjects.HookUndeliverable)
  async received(@Payload() event: HookUndeliverableEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    // Address and opt-out come from the registry's events, not from a call per email.
    const account = this.view.accounts.get(event.client_id);
    if (!account) {
      // Never by delivery count: an outage can deliver a message many times before its account could be looked up.
      const decision = decideUnknownAccount(
        {
          viewSequence: this.view.sequence,
          registryLastSequence: (await (await this.nc.jetstreamManager()).streams.info(this.naming.stream(Streams.REGISTRY.name))).state.last_seq,
          ageMs: Date.now() - ctx.message.info.timestampNanos / 1e6,
          horizonMs: this.env.DEADLETTER_AFTER_MS,
          deliveryCount: ctx.deliveryCount,
          retryBaseMs: this.env.EMAIL_RETRY_BASE_MS,
          retryMaxMs: this.env.EMAIL_RETRY_MAX_MS,
        },
        event.client_id,
      );
      if (decision.action === 'retry') ctx.retryIn(decision.delayMs, decision.reason);
      else ctx.deadLetter(decision.reason);
      return;
    }
    // The Nats-Msg-Id; a message someone published without one is keyed by stream and sequence.
    const key = ctx.fallbackEventId;
    const outcome = await this.recorder.record(key, event, account.undeliverable_email);
    undeliverableEvents.inc({ outcome });
    if (outcome === 'emailed') this.outbox.kick();
    this.log.log(`${key}: hook ${event.hook_id} of account ${event.client_id} undeliverable after ${event.attempts} attempts: ${outcome}`);
  }
}
