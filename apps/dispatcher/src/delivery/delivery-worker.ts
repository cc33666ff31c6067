import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { DispatcherEnv, parseDurationList } from '@posthooks/config';
import { DeliveryRequestedEvent, HookChangedEvent, Subjects } from '@posthooks/contracts';
import { DeadLetter, EventPublisher, RetryLater, Semaphore } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { RetrySchedule } from '@posthooks/webhooks';
import { attemptSeconds, deliveriesTotal } from '../metrics';
import { DeliveryReports, Report } from './delivery-reports';
import { DeliveryRow, DeliveryStore, NewDelivery } from './delivery-store';
import { HostSlots } from './host-slots';
import { AttemptResult, WebhookSender } from './webhook-sender';

export const WEBHOOK_SENDER = Symbol('WEBHOOK_SENDER');

/** What handling a message did: whether it recorded an outcome (ending the lease), and when to come back. */
interface Step {
  recorded: boolean;
  retryInMs?: number;
  why?: string;
}

/** How long a delivery waits in-process for a slot (of its host, or for a first attempt) before it goes through DELIVERIES. */
const SLOT_WAIT_MS = 250;

/** How long another worker's lease is waited out before a message looks again. */
const LEASED_RETRY_MS = 1000;

/**
 * Makes the attempts of deliveries. The first attempt is made at once, in the process
 * whose fan-out recorded the delivery (`firstAttempt`); every later one, and a first one
 * this process could not make, runs from a message of DELIVERIES (`handle`). What has
 * happened is in Postgres, so a redelivered message (a crash, a second replica) never
 * repeats a finished attempt and never sends before the scheduled time; the wait
 * between attempts is the message's `nak(delay)`, kept by JetStream across restarts.
 */
@Injectable()
export class DeliveryWorker implements BeforeApplicationShutdown {
  private readonly log = new Logger('Delivery');
  private readonly schedule: RetrySchedule;
  private readonly slots: HostSlots;
  /**
   * Hooks that answered 410, with the state of the hook that answered it: remembered
   * until the registry's next change of that hook (the disable it makes of the 410, or a
   * re-enable after the user fixed the endpoint) replaces that state in the view.
   */
  private readonly gone = new Map<number, HookChangedEvent>();
  /** As long as an attempt can take, with room: the message's ack wait is the same. */
  readonly leaseMs: number;
  /** First attempts under way in this process, at most DELIVERY_CONCURRENCY. */
  private readonly firstAttemptSlots: Semaphore;
  private readonly firstAttempts = new Set<Promise<void>>();

  constructor(
    private readonly store: DeliveryStore,
    private readonly view: RegistryView,
    private readonly publisher: EventPublisher,
    private readonly reports: DeliveryReports,
    @Inject(WEBHOOK_SENDER) private readonly sender: WebhookSender,
    @Inject(DispatcherEnv) env: DispatcherEnv,
  ) {
    this.schedule = new RetrySchedule(parseDurationList(env.DELIVERY_RETRY_SCHEDULE));
    this.slots = new HostSlots(env.DELIVERY_CONCURRENCY_PER_HOST);
    this.leaseMs = env.DELIVERY_TIMEOUT_MS + 5000;
    this.firstAttemptSlots = new Semaphore(env.DELIVERY_CONCURRENCY);
  }

  /** Lets the first attempts under way finish (and be recorded) before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.firstAttempts);
  }

  /**
   * A slot for a first attempt made at once, waiting a moment for one: false when this
   * process is busy (the delivery then goes through DELIVERIES). Give it back with
   * `firstAttempt` or `cancelFirstAttempt`.
   */
  reserveFirstAttempt(): Promise<boolean> {
    return this.firstAttemptSlots.acquireWithin(SLOT_WAIT_MS);
  }

  cancelFirstAttempt(): void {
    this.firstAttemptSlots.release();
  }

  /**
   * The first attempt of a delivery the fan-out has just recorded, leased, with attempt 1
   * logged as under way: made here without a trip through DELIVERIES (a publish, a
   * consume, a lease and a release fewer per delivery). A retry goes to DELIVERIES like
   * any. If this process dies meanwhile, the lease runs out and the lease sweep hands
   * the delivery to DELIVERIES. Never rejects.
   */
  firstAttempt(delivery: NewDelivery): void {
    const now = new Date();
    const d: DeliveryRow = { ...delivery, state: 'pending', round: 1, round_attempts: 0, attempts: 0, next_attempt_at: null, last_error: null, leased_until: null, report_due: null, created_at: now, updated_at: now };
    const attempt = this.makeFirstAttempt(d)
      .catch((err: Error) => this.log.warn(`first attempt of ${d.webhook_id} not recorded (${err.message}); the lease sweep will hand it on`))
      .finally(() => {
        this.firstAttemptSlots.release();
        this.firstAttempts.delete(attempt);
      });
    this.firstAttempts.add(attempt);
  }

  private async makeFirstAttempt(d: DeliveryRow): Promise<void> {
    const hook = this.usableHook(d);
    const host = hook && new URL(hook.url).host;
    if (!hook || !host || !(await this.slots.take(host, SLOT_WAIT_MS))) {
      // Cancelled, or its host is busy: DELIVERIES takes it from here. Queued before the
      // lease ends, so that a crash in between leaves a lease for the sweep to find.
      await this.enqueue(d);
      return this.store.release(d.webhook_id);
    }
    const result = await this.send(d, hook, host);
    // A failure's next attempt runs from DELIVERIES: queued while this lease still holds,
    // so that no crash can leave a recorded retry without its message. (The message
    // waits out the lease, then the retry's time; after a final failure it finds
    // nothing to do.)
    if (!result.ok) await this.enqueue(d);
    await this.record(d, 1, result, hook.url);
  }

  /** The message that makes the delivery's next attempt (of its round) from DELIVERIES. */
  async enqueue(d: Pick<DeliveryRow, 'webhook_id' | 'round'>): Promise<void> {
    await this.publisher.publish(Subjects.DeliveryRequested, { webhook_id: d.webhook_id, round: d.round }, { msgId: `${d.webhook_id}-${d.round}` });
  }

  async handle(msg: DeliveryRequestedEvent): Promise<void> {
    const d = await this.store.lease(msg.webhook_id, this.leaseMs);
    if (d === undefined) throw new DeadLetter(`no delivery ${msg.webhook_id}`);
    if (d === 'leased') throw new RetryLater(LEASED_RETRY_MS, 'another worker is making this attempt');
    let step: Step = { recorded: false };
    try {
      step = await this.step(msg, d);
    } finally {
      // Recording an outcome ends the lease; anything else gives it back now.
      if (!step.recorded) await this.store.release(d.webhook_id);
    }
    if (step.retryInMs !== undefined) throw new RetryLater(step.retryInMs, step.why ?? 'retry');
  }

  /** The next step of a leased delivery: an attempt if one is due, or nothing. */
  private async step(msg: DeliveryRequestedEvent, d: DeliveryRow): Promise<Step> {
    if (d.round !== msg.round) return { recorded: false }; // a replay has superseded this round
    if (d.state !== 'pending') return { recorded: false };
    const wait = (d.next_attempt_at?.getTime() ?? 0) - Date.now();
    if (wait > 50) return { recorded: false, retryInMs: wait, why: 'not yet time for the next attempt' };

    const hook = this.usableHook(d);
    if (!hook) {
      await this.store.cancel(d.webhook_id, this.view.hooks.has(d.hook_id) ? 'hook disabled' : 'hook deleted');
      deliveriesTotal.inc({ outcome: 'cancelled' });
      return { recorded: true };
    }
    const host = new URL(hook.url).host;
    const n = d.attempts + 1;
    // Recorded as under way first, so a crash during the send is known; the host's slot
    // is held for the send alone (holding it over a Postgres write halved bench/dispatch).
    // An attempt that then finds no slot stays `pending` in the log and is taken over,
    // with the same number, when it is made.
    await this.store.startAttempt(d, n);
    if (!(await this.slots.take(host, SLOT_WAIT_MS))) return { recorded: false, retryInMs: 50 + Math.floor(Math.random() * 200), why: `all slots of ${host} busy` };
    return this.record(d, n, await this.send(d, hook, host), hook.url);
  }

  /** The delivery's hook if it may still be sent to: not deleted, not disabled or gone, its account entitled. */
  private usableHook(d: DeliveryRow): HookChangedEvent | undefined {
    const hook = this.view.hooks.get(d.hook_id);
    if (!hook || hook.disabled_at !== null || this.isGone(hook) || !this.view.entitled(d.account_id)) return undefined;
    return hook;
  }

  /** Whether this hook, as the view has it now, answered 410: a change the registry made since then ends it. */
  private isGone(hook: HookChangedEvent): boolean {
    const answered = this.gone.get(hook.hook_id);
    if (answered === hook) return true;
    if (answered) this.gone.delete(hook.hook_id);
    return false;
  }

  /** One attempt, holding the slot of `host` the caller took: the slot is freed when the send ends. */
  private async send(d: DeliveryRow, hook: HookChangedEvent, host: string): Promise<AttemptResult> {
    let result: AttemptResult;
    try {
      result = await this.sender.send({ url: hook.url, webhookId: d.webhook_id, body: d.body, secrets: this.view.signingSecrets(hook.hook_id) });
    } finally {
      this.slots.release(host);
    }
    attemptSeconds.observe({ outcome: result.ok ? 'succeeded' : 'failed' }, result.durationMs / 1000);
    return result;
  }

  /**
   * Records the attempt's outcome. An outcome that ends the delivery with a report owed
   * (410: hook.gone; the last attempt failed: hook.undeliverable) records the report as
   * due with it, in one statement, then publishes it: if NOTIFY does not take it now,
   * DeliveryReports publishes it again until it does, so no failure between the commit
   * and the publish loses it. A replay asked for during the attempt started a new round,
   * whose own message makes its attempts: this round's schedule ends without a report.
   */
  private async record(d: DeliveryRow, n: number, result: AttemptResult, url: string): Promise<Step> {
    if (result.ok) {
      await this.store.finishAttempt(d, n, result, { state: 'succeeded', nextAttemptAt: null });
      deliveriesTotal.inc({ outcome: 'succeeded' });
      return { recorded: true };
    }
    const ended = { ...d, attempts: n, round_attempts: d.round_attempts + 1, last_error: result.error, state: 'failed' as const };
    if (result.statusCode === 410) {
      // Gone: no more attempts, and the registry disables the hook (endpoint_gone).
      const hook = this.view.hooks.get(d.hook_id);
      if (hook) this.gone.set(d.hook_id, hook);
      const current = await this.store.finishAttempt(d, n, result, { state: 'failed', nextAttemptAt: null, report: 'gone' });
      deliveriesTotal.inc({ outcome: 'gone' });
      if (current) await this.report({ d: { ...ended, report_due: 'gone' }, kind: 'gone', lastStatusCode: 410, url });
      return { recorded: true };
    }
    const delay = this.schedule.delayAfter(d.round_attempts + 1, result.retryAfterMs);
    const next = delay === undefined ? { state: 'failed' as const, nextAttemptAt: null, report: 'undeliverable' as const } : { state: 'pending' as const, nextAttemptAt: new Date(Date.now() + delay) };
    const current = await this.store.finishAttempt(d, n, result, next);
    if (!current) return { recorded: true };
    if (delay === undefined) {
      deliveriesTotal.inc({ outcome: 'undeliverable' });
      await this.report({ d: { ...ended, report_due: 'undeliverable' }, kind: 'undeliverable', lastStatusCode: result.statusCode ?? null });
      return { recorded: true };
    }
    deliveriesTotal.inc({ outcome: 'retry' });
    return { recorded: true, retryInMs: delay, why: `attempt ${n} failed: ${result.error}` };
  }

  /** Publishes a report just recorded as due; one NOTIFY refuses is left to DeliveryReports' sweep. */
  private async report(r: Report): Promise<void> {
    await this.reports.publish(r).catch((err: Error) => this.log.warn(`${r.kind} report of ${r.d.webhook_id} not yet published (${err.message}); the report sweep retries it`));
  }
}
