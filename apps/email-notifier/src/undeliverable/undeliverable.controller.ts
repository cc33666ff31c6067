import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EmailNotifierEnv } from '@posthooks/config';
import { HookUndeliverableEvent, Subjects } from '@posthooks/contracts';
import { DeadLetter, JetStreamContext, RetryLater } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { EmailOutbox } from '../email/email-outbox';
import { retryDelayMs } from '../email/smtp-sender';
import { undeliverableEvents } from '../metrics';
import { UndeliverableRecorder } from './undeliverable-recorder';

/** Deliveries of an event whose account the view does not know before it is dead-lettered, with waits like SMTP retries' (75 s in all by default). */
const UNKNOWN_ACCOUNT_TRIES = 5;

/**
 * `hook.undeliverable` from NOTIFY (SPEC §6). The handler only records what the event
 * becomes (an email, a fold into a digest, nothing for an opted-out account); returning
 * acks the message after the record committed. The outbox sends.
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
  ) {}

  @EventPattern(Subjects.HookUndeliverable)
  async received(@Payload() event: HookUndeliverableEvent, @Ctx() ctx: JetStreamContext): Promise<void> {
    // Address and opt-out come from the registry's events, not from a call per email.
    const account = this.view.accounts.get(event.client_id);
    if (!account) {
      // An account exists long before one of its hooks can fail: this is the view lagging, or an event from elsewhere.
      if (ctx.deliveryCount < UNKNOWN_ACCOUNT_TRIES) {
        throw new RetryLater(retryDelayMs(ctx.deliveryCount, this.env.EMAIL_RETRY_BASE_MS, this.env.EMAIL_RETRY_MAX_MS), `account ${event.client_id} is not known (yet)`);
      }
      throw new DeadLetter(`account ${event.client_id} is unknown`);
    }
    // The Nats-Msg-Id; a message someone published without one is keyed by stream and sequence.
    const key = ctx.fallbackEventId;
    const outcome = await this.recorder.record(key, event, account.undeliverable_email);
    undeliverableEvents.inc({ outcome });
    if (outcome === 'emailed') this.outbox.kick();
    this.log.log(`${key}: hook ${event.hook_id} of account ${event.client_id} undeliverable after ${event.attempts} attempts: ${outcome}`);
  }
}
