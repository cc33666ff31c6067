import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EmailNotifierEnv } from '@posthooks/config';
import { HookUndeliverableEvent } from '@posthooks/contracts';
import { RegistryView } from '@posthooks/registry-view';
import { emailsSent, emailsWaiting } from '../metrics';
import { DigestContent, digestEmail, RenderedEmail, undeliverableEmail } from './email-content';
import { ClaimedEmail, EmailStore } from './email-store';
import { retryDelayMs, SmtpSender } from './smtp-sender';

export const SMTP_SENDER = Symbol('SMTP_SENDER');

/** Emails sent at once by one replica. */
const BATCH = 10;

/**
 * Sends what the outbox (table `emails`) holds, the only place that speaks SMTP.
 *
 * Why an outbox in Postgres rather than sending inside the message handler and
 * `nak(delay)`-ing on failure, as the dispatcher does: a digest is due when its window
 * ends, which no single message stands for; and during an SMTP outage every email
 * waiting in a nak would hold one of the consumer's ack-pending slots, stalling it. Here
 * the handler records and acks, and this loop retries with backoff, durably.
 *
 * Exactly once: a row is marked `sending` (committed) before SMTP and `sent` right after
 * the server's 250. A sender that dies between the two leaves `sending`; when its claim
 * lapses (2 × SMTP_TIMEOUT_MS) the row is sent again, with the same Message-ID and Date.
 * That is the one window left: a crash in the milliseconds between the server's 250 and
 * our commit can deliver a second copy, which receivers that de-duplicate by Message-ID
 * drop. We chose it over never retrying a `sending` row, which would lose the email
 * whenever the crash came before the server took it. (A send that times out waiting
 * for the answer to DATA is the same window.) The send is bounded by SMTP_TIMEOUT_MS,
 * half the claim, so replicas never send the same row at once.
 */
@Injectable()
export class EmailOutbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('EmailOutbox');
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private kicked = false;

  constructor(
    private readonly store: EmailStore,
    private readonly view: RegistryView,
    @Inject(SMTP_SENDER) private readonly smtp: SmtpSender,
    @Inject(EmailNotifierEnv) private readonly env: EmailNotifierEnv,
  ) {
    // Look for due rows a few times per shortest delay, at most once a second: a quiet
    // notifier costs two small indexed queries a second.
    this.pollMs = Math.max(20, Math.min(1000, Math.floor(Math.min(env.EMAIL_RETRY_BASE_MS, env.EMAIL_DIGEST_WINDOW_MS) / 4)));
    this.leaseMs = 2 * env.SMTP_TIMEOUT_MS;
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Something new is due now (the handler recorded an email): look at once. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Before the database closes: stop claiming, let sends under way record their outcome. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.env.SHUTDOWN_TIMEOUT_MS).unref());
    await Promise.race([this.loop, timeout]);
    this.smtp.close();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        const batch = await this.store.claimDue(BATCH, this.leaseMs);
        claimed = batch.length;
        for (const r of await Promise.allSettled(batch.map((e) => this.deliver(e)))) {
          // The row stays `sending` and is taken over when its claim lapses.
          if (r.status === 'rejected') this.log.warn(`outbox: ${(r.reason as Error).message}`);
        }
        emailsWaiting.set(await this.store.countWaiting());
      } catch (err) {
        // Postgres unreachable: nothing was claimed, or a claim lapses and is retried.
        this.log.warn(`outbox: ${(err as Error).message}`);
      }
      // A kick during the batch means a new email is due: look again at once.
      if (claimed < BATCH && !this.kicked) await this.sleep();
      this.kicked = false;
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async deliver(e: ClaimedEmail): Promise<void> {
    const account = this.view.accounts.get(e.account_id);
    if (!account?.undeliverable_email) {
      await this.store.finish(e, 'cancelled', account ? 'the account opted out' : 'unknown account', null);
      emailsSent.inc({ kind: e.kind, outcome: 'cancelled' });
      return;
    }
    if (e.was === 'sending') this.log.warn(`email ${e.id} (${e.kind}, hook ${e.hook_id}) was being sent when its sender stopped; sending it again with the same Message-ID`);

    const to = account.notification_email;
    const rendered = this.render(e);
    const result = await this.smtp.send({ ...rendered, to, messageId: e.message_id, date: e.created_at, headers: { 'X-Posthooks-Kind': e.kind, 'X-Posthooks-Hook-Id': String(e.hook_id) } });
    if (result.ok) {
      await this.recordSent(e, to);
      emailsSent.inc({ kind: e.kind, outcome: 'sent' });
      this.log.log(`email ${e.id} (${e.kind}, hook ${e.hook_id}, account ${e.account_id}) sent: ${result.response}`);
    } else if (result.permanent) {
      await this.store.finish(e, 'rejected', result.error, to);
      emailsSent.inc({ kind: e.kind, outcome: 'rejected' });
      this.log.warn(`email ${e.id} (${e.kind}, hook ${e.hook_id}, account ${e.account_id}) rejected, not retried: ${result.error}`);
    } else {
      const delay = retryDelayMs(e.attempts, this.env.EMAIL_RETRY_BASE_MS, this.env.EMAIL_RETRY_MAX_MS);
      await this.store.retryLater(e, delay, result.error);
      emailsSent.inc({ kind: e.kind, outcome: 'retry' });
      this.log.warn(`email ${e.id} (${e.kind}, hook ${e.hook_id}) not sent (try ${e.attempts}), retrying in ${delay} ms: ${result.error}`);
    }
  }

  /**
   * The email is out: recording it is what keeps it from going out again, so a
   * Postgres blip here is retried for a while rather than left to the claim's lapse.
   */
  private async recordSent(e: ClaimedEmail, to: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        return await this.store.markSent(e, to);
      } catch (err) {
        if (i >= 4 || !this.running) throw err;
        await new Promise((r) => setTimeout(r, 250 * 2 ** i));
      }
    }
  }

  private render(e: ClaimedEmail): RenderedEmail {
    const ctx = { accountId: e.account_id, windowMs: this.env.EMAIL_DIGEST_WINDOW_MS, consoleUrl: this.env.CONSOLE_URL };
    return e.kind === 'digest' ? digestEmail(e.content as DigestContent, e.folded, ctx) : undeliverableEmail(e.content as HookUndeliverableEvent, ctx);
  }
}
