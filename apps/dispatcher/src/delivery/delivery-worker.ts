import { Inject, Injectable, Logger } from '@nestjs/common';
import { DispatcherEnv, parseDurationList } from '@posthooks/config';
import { HookChangedEvent } from '@posthooks/contracts';
import { RegistryView } from '@posthooks/registry-view';
import { RetrySchedule } from '@posthooks/webhooks';
import { attemptSeconds, deliveriesTotal } from '../metrics';
import { afterAttempt, beforeAttempt, HookStatus, Outcome } from './delivery-decisions';
import { DeliveryReports, Report } from './delivery-reports';
import { Claimed, DeliveryStore } from './delivery-store';
import { HostSlots } from './host-slots';
import { AttemptResult, notSent, WebhookSender } from './webhook-sender';

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');

/**
 * The one attempt routine. Every attempt — a first attempt, a retry, a redelivery, a
 * recover, a ping — is a delivery the scheduler claimed because it came due, and goes
 * through `attempt`: decide (delivery-decisions.ts), take a slot of the endpoint's host,
 * send, record the outcome with its next due time or its report. Nothing here waits
 * for a retry: a retry is the delivery's `next_attempt_at`, and the claim that finds it
 * due starts the next attempt.
 */
@Injectable()
export class DeliveryWorker {
  private readonly log = new Logger('Delivery');
  private readonly schedule: RetrySchedule;
  private readonly slots: HostSlots;
  /**
   * Hooks that answered 410, with the state of the hook that answered it: remembered
   * until the registry's next change of that hook (the disable it makes of the 410, or a
   * re-enable after the user fixed the endpoint) replaces that state in the view.
   */
  private readonly gone = new Map<number, HookChangedEvent>();
  /** How long a claim holds a delivery: the longest wait for a host slot, then the longest attempt, with room. */
  readonly leaseMs: number;
  /** How long a claimed delivery waits for a slot of its host before it is given back. */
  private readonly slotWaitMs: number;

  constructor(
    private readonly store: DeliveryStore,
    private readonly view: RegistryView,
    private readonly reports: DeliveryReports,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(DispatcherEnv) env: DispatcherEnv,
  ) {
    this.schedule = new RetrySchedule(parseDurationList(env.DELIVERY_RETRY_SCHEDULE));
    this.slots = new HostSlots(env.DELIVERY_CONCURRENCY_PER_HOST);
    this.slotWaitMs = 1000;
    this.leaseMs = this.slotWaitMs + env.DELIVERY_TIMEOUT_MS + 5000;
  }

  /** The host a hook's deliveries are sent to, for the per-host limits; undefined for a hook the view no longer has. */
  hostOf(hookId: number): string | undefined {
    const url = this.view.hooks.get(hookId)?.url;
    try {
      return url === undefined ? undefined : new URL(url).host;
    } catch {
      return undefined; // not a URL (the registry never sends one): its attempt fails and says so
    }
  }

  /**
   * Makes the attempt of a claimed delivery and records what came of it. `host` is the
   * hook's host as the scheduler counted it (hostOf), the key of its slots; `sent` is
   * called once the send is over (before the outcome is recorded). Rejects only if
   * Postgres does (the lease then runs out and the delivery is claimed again).
   */
  async attempt(c: Claimed, host: string, sent: () => void): Promise<void> {
    const hook = this.view.hooks.get(c.hook_id);
    const start = beforeAttempt(this.statusOf(c, hook), c.round_attempts, this.schedule);
    if (start.action === 'cancel') {
      if (await this.store.endWithoutAttempt(c, { state: 'cancelled', reason: start.reason })) deliveriesTotal.inc({ outcome: 'cancelled' });
      return;
    }
    if (start.action === 'give up') {
      if (await this.store.endWithoutAttempt(c, { state: 'failed', report: 'undeliverable' })) await this.report({ d: { ...c, state: 'failed', report_due: 'undeliverable' }, kind: 'undeliverable', lastStatusCode: null });
      return;
    }
    const url = (hook as HookChangedEvent).url;
    // The host's slot is held for the send alone (holding it over a Postgres write halved
    // bench/dispatch). A host that stays busy (a slow endpoint) gets its delivery back.
    if (!(await this.slots.take(host, this.slotWaitMs))) return this.store.giveBack(c);
    let result: AttemptResult;
    try {
      const headers = this.view.customHeaders(c.hook_id);
      result = headers.ok ? await this.sender.send({ url, webhookId: c.webhook_id, body: c.body, secrets: this.view.signingSecrets(c.hook_id), headers: headers.headers }) : notSent(headers.error);
    } finally {
      this.slots.release(host);
      sent();
    }
    attemptSeconds.observe({ outcome: result.ok ? 'succeeded' : 'failed' }, result.durationMs / 1000);
    await this.record(c, result, afterAttempt(result, c.round_attempts, this.schedule, new Date()), url);
  }

  private statusOf(c: Claimed, hook: HookChangedEvent | undefined): HookStatus {
    if (!hook) return 'deleted';
    if (hook.disabled_at !== null) return 'disabled';
    if (this.isGone(hook)) return 'gone';
    if (!this.view.entitled(c.account_id)) return 'not entitled';
    return 'usable';
  }

  /** Whether this hook, as the view has it now, answered 410: a change the registry made since then ends it. */
  private isGone(hook: HookChangedEvent): boolean {
    const answered = this.gone.get(hook.hook_id);
    if (answered === hook) return true;
    if (answered) this.gone.delete(hook.hook_id);
    return false;
  }

  /**
   * Records the attempt's outcome. An outcome that ends the delivery with a report owed
   * (gone, undeliverable) records the report as due in the same statement, then publishes
   * it: if NOTIFY does not take it now, DeliveryReports publishes it again until it does.
   * A replay asked for during the attempt started a new round: this round's outcome is
   * logged and its report dropped (`current` false).
   */
  private async record(c: Claimed, result: AttemptResult, outcome: Outcome, url: string): Promise<void> {
    const ended = { ...c, attempts: c.attempt, round_attempts: c.round_attempts + 1, last_error: result.error, state: 'failed' as const };
    switch (outcome.kind) {
      case 'succeeded':
        await this.store.finishAttempt(c, c.attempt, result, { state: 'succeeded', nextAttemptAt: null });
        break;
      case 'retry':
        await this.store.finishAttempt(c, c.attempt, result, { state: 'pending', nextAttemptAt: outcome.at });
        break;
      case 'gone': {
        // No more attempts, and the registry disables the hook (endpoint_gone).
        const hook = this.view.hooks.get(c.hook_id);
        if (hook) this.gone.set(c.hook_id, hook);
        if (await this.store.finishAttempt(c, c.attempt, result, { state: 'failed', nextAttemptAt: null, report: 'gone' })) await this.report({ d: { ...ended, report_due: 'gone' }, kind: 'gone', lastStatusCode: 410, url });
        break;
      }
      case 'undeliverable':
        if (await this.store.finishAttempt(c, c.attempt, result, { state: 'failed', nextAttemptAt: null, report: 'undeliverable' })) {
          await this.report({ d: { ...ended, report_due: 'undeliverable' }, kind: 'undeliverable', lastStatusCode: result.statusCode, url });
        }
        break;
    }
    deliveriesTotal.inc({ outcome: outcome.kind });
  }

  /** Publishes a report just recorded as due; one NOTIFY refuses is left to DeliveryReports' sweep. */
  private async report(r: Report): Promise<void> {
    await this.reports.publish(r).catch((err: Error) => this.log.warn(`${r.kind} report of ${r.d.webhook_id} not yet published (${err.message}); the report sweep retries it`));
  }
}
