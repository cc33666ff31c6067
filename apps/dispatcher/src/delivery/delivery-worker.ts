import { Inject, Injectable, Logger } from '@nestjs/common';
import { DispatcherEnv, parseDurationList } from '@posthooks/config';
import { DeliveryRequestedEvent, Subjects } from '@posthooks/contracts';
import { DeadLetter, EventPublisher, RetryLater } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { RetrySchedule } from '@posthooks/webhooks';
import { attemptSeconds, deliveriesTotal } from '../metrics';
import { DeliveryRow, DeliveryStore } from './delivery-store';
import { HostSlots } from './host-slots';
import { AttemptResult, WebhookSender } from './webhook-sender';

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');

/**
 * One attempt of one delivery per message of DELIVERIES. What has happened is in
 * Postgres, so a redelivered message (a crash, a second replica) never repeats a
 * finished attempt and never sends before the scheduled time; the wait between attempts
 * is the message's `nak(delay)`, kept by JetStream across restarts.
 */
@Injectable()
export class DeliveryWorker {
  private readonly log = new Logger('Delivery');
  private readonly schedule: RetrySchedule;
  private readonly slots: HostSlots;
  /** Hooks that answered 410, until the registry's event disabling them arrives. */
  private readonly gone = new Set<number>();

  constructor(
    private readonly store: DeliveryStore,
    private readonly view: RegistryView,
    private readonly publisher: EventPublisher,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(DispatcherEnv) env: DispatcherEnv,
  ) {
    this.schedule = new RetrySchedule(parseDurationList(env.DELIVERY_RETRY_SCHEDULE));
    this.slots = new HostSlots(env.DELIVERY_CONCURRENCY_PER_HOST);
  }

  async handle(msg: DeliveryRequestedEvent): Promise<void> {
    const d = await this.store.get(msg.webhook_id);
    if (!d) throw new DeadLetter(`no delivery ${msg.webhook_id}`);
    if (d.round !== msg.round) return; // a replay has superseded this round
    if (d.state === 'failed' && d.round_attempts >= this.schedule.maxAttempts) return this.reportUndeliverable(d); // crashed before reporting
    if (d.state !== 'pending') return;
    const wait = (d.next_attempt_at?.getTime() ?? 0) - Date.now();
    if (wait > 50) throw new RetryLater(wait, 'not yet time for the next attempt');

    const hook = this.view.hooks.get(d.hook_id);
    if (!hook || hook.disabled_at !== null || this.gone.has(d.hook_id) || !this.view.entitled(d.account_id)) {
      await this.store.cancel(d.webhook_id, hook ? 'hook disabled' : 'hook deleted');
      deliveriesTotal.inc({ outcome: 'cancelled' });
      return;
    }
    const host = new URL(hook.url).host;
    if (!this.slots.tryTake(host)) throw new RetryLater(250 + Math.floor(Math.random() * 750), `all slots of ${host} busy`);
    try {
      const n = d.attempts + 1;
      await this.store.startAttempt(d, n);
      const result = await this.sender.send({ url: hook.url, webhookId: d.webhook_id, body: d.body, secrets: this.view.signingSecrets(hook.hook_id) });
      attemptSeconds.observe({ outcome: result.ok ? 'succeeded' : 'failed' }, result.durationMs / 1000);
      await this.afterAttempt(d, n, result, hook.url);
    } finally {
      this.slots.release(host);
    }
  }

  private async afterAttempt(d: DeliveryRow, n: number, result: AttemptResult, url: string): Promise<void> {
    if (result.ok) {
      await this.store.finishAttempt(d, n, result, { state: 'succeeded', nextAttemptAt: null });
      deliveriesTotal.inc({ outcome: 'succeeded' });
      return;
    }
    if (result.statusCode === 410) {
      // Gone: no more attempts, and the registry disables the hook (endpoint_gone).
      this.gone.add(d.hook_id);
      await this.publisher.publish(
        Subjects.HookGone,
        { hook_id: d.hook_id, client_id: d.account_id, url, webhook_id: d.webhook_id, occurred_at: new Date().toISOString() },
        { msgId: `gone-${d.webhook_id}-${d.round}` },
      );
      await this.store.finishAttempt(d, n, result, { state: 'failed', nextAttemptAt: null });
      deliveriesTotal.inc({ outcome: 'gone' });
      return;
    }
    const delay = this.schedule.delayAfter(d.round_attempts + 1, result.retryAfterMs);
    if (delay === undefined) {
      await this.store.finishAttempt(d, n, result, { state: 'failed', nextAttemptAt: null });
      deliveriesTotal.inc({ outcome: 'undeliverable' });
      return this.reportUndeliverable({ ...d, attempts: n, round_attempts: d.round_attempts + 1, last_error: result.error, state: 'failed' }, result.statusCode);
    }
    const nextAttemptAt = new Date(Date.now() + delay);
    await this.store.finishAttempt(d, n, result, { state: 'pending', nextAttemptAt });
    deliveriesTotal.inc({ outcome: 'retry' });
    throw new RetryLater(delay, `attempt ${n} failed: ${result.error}`);
  }

  /** Exactly one hook.undeliverable per delivery round: its message id dedupes a repeat. */
  private async reportUndeliverable(d: DeliveryRow, lastStatus?: number | null): Promise<void> {
    const body = JSON.parse(d.body) as { integration_name: string; source_root_table_name: string };
    const hook = this.view.hooks.get(d.hook_id);
    await this.publisher.publish(
      Subjects.HookUndeliverable,
      {
        event_id: d.event_id,
        event_type: d.event_type,
        webhook_id: d.webhook_id,
        hook_id: d.hook_id,
        client_id: d.account_id,
        url: hook?.url ?? 'https://unknown.invalid/',
        integration_name: body.integration_name,
        table_name: body.source_root_table_name,
        attempts: d.round_attempts,
        last_error: d.last_error ?? 'unknown',
        last_status_code: lastStatus ?? null,
        occurred_at: new Date().toISOString(),
      },
      { msgId: `undeliverable-${d.webhook_id}-${d.round}` },
    );
    this.log.warn(`${d.webhook_id} to hook ${d.hook_id} undeliverable after ${d.round_attempts} attempts: ${d.last_error}`);
  }
}
