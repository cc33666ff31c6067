import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DispatcherEnv } from '@posthooks/config';
import { classifyFailure } from '@posthooks/messaging';
import { claimsTotal, deliveriesHeld } from '../metrics';
import { Claimed, DeliveryStore } from './delivery-store';
import { DeliveryWorker } from './delivery-worker';
import { FairShare, shareLimits } from './fair-share';
import { HookThrottle, Sorted } from './hook-throttle';

/** The host of a hook the view no longer knows (deleted: its deliveries are cancelled at once), or whose URL does not parse (its attempt fails). */
const UNKNOWN_HOST = '';

/**
 * Starts the attempts that came due. Each replica claims due deliveries from Postgres
 * (DeliveryStore.claim: leased, fair between hooks and accounts) whenever it has room:
 * at once when it records new work itself (`wake`: a fan-out, a ping, a replay), when
 * one of its attempts ends, and every DELIVERY_POLL_MS for retries that came due and
 * work other replicas recorded. Waiting deliveries are rows, not messages: however many
 * wait, they hold nothing until they are due.
 *
 * One claim runs at a time per replica; what asks for one meanwhile is folded into the
 * next, so a busy replica claims in batches rather than once per finished attempt.
 */
@Injectable()
export class DeliveryScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('DeliveryScheduler');
  private readonly share: FairShare;
  private readonly attempts = new Set<Promise<void>>();
  private claiming = false;
  private again = false;
  private running = false;
  private poller?: NodeJS.Timeout;
  /** When the last claim failed (Postgres away): claims back off instead of spinning. */
  private failedAt = 0;
  /** When claims started failing, and when that was last logged: an outage is logged once a minute, not once a poll. */
  private failingSince = 0;
  private loggedAt = 0;
  /** Wakes this replica when the earliest hook it blocked for its rate limit may send again. */
  private unblock?: { at: number; timer: NodeJS.Timeout };

  constructor(
    private readonly store: DeliveryStore,
    private readonly worker: DeliveryWorker,
    private readonly throttle: HookThrottle,
    @Inject(DispatcherEnv) private readonly env: DispatcherEnv,
  ) {
    this.share = new FairShare(shareLimits(env.DELIVERY_CONCURRENCY, env.DELIVERY_CONCURRENCY_PER_HOST, env.DELIVERY_ACCOUNT_SHARE));
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.poller = setInterval(() => this.wake(), this.env.DELIVERY_POLL_MS);
    this.wake();
  }

  /** Stops claiming and lets the attempts under way finish (and be recorded) before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.poller);
    clearTimeout(this.unblock?.timer);
    await Promise.allSettled(this.attempts);
  }

  /** Something may be due now: claim as soon as no claim is running. */
  wake(): void {
    if (!this.running) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = true;
    // setImmediate: the wakes of one turn of the event loop (a fetched batch of load
    // events, a batch of finished attempts) make one claim.
    setImmediate(() => void this.claimLoop().catch((err: Error) => this.log.error(`claim loop: ${err.stack ?? err.message}`)));
  }

  private async claimLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        if (!this.running || Date.now() - this.failedAt < this.env.DELIVERY_POLL_MS) break;
        const plan = this.share.plan();
        if (!plan) break;
        let claimed: Claimed[];
        try {
          // Hooks at their rate limit here wait in Postgres, unclaimed, until a send stops counting.
          claimed = await this.store.claim({ ...plan, skipHooks: [...plan.skipHooks, ...this.throttle.blockedHooks()], leaseMs: this.worker.leaseMs });
        } catch (err) {
          this.claimFailed(err);
          break;
        }
        if (this.failingSince) {
          this.log.log(`claims work again after ${Math.round((Date.now() - this.failingSince) / 1000)} s`);
          this.failingSince = 0;
        }
        claimsTotal.inc({ outcome: claimed.length === 0 ? 'empty' : claimed.length < plan.limit ? 'some' : 'full' });
        const { free, limited } = this.throttle.sort(claimed);
        for (const c of free) this.start(c);
        if (limited.size > 0) this.clearThrottled(limited);
        // A full claim leaves more due: claim again if there is still room.
        if (claimed.length === plan.limit) this.again = true;
      } while (this.again);
    } finally {
      this.claiming = false;
    }
  }

  private claimFailed(err: unknown): void {
    const now = Date.now();
    this.failedAt = now;
    this.failingSince ||= now;
    if (now - this.loggedAt < 60_000) return;
    this.loggedAt = now;
    const outage = classifyFailure(err) === 'outage';
    const since = Math.round((now - this.failingSince) / 1000);
    this.log[outage ? 'warn' : 'error'](`claiming due deliveries fails (${outage ? 'Postgres out of reach' : 'error'}) for ${since} s; retried every ${this.env.DELIVERY_POLL_MS} ms: ${(err as Error).message}`);
  }

  /**
   * Starts what the rate limits of throttled hooks let go, once decided. Decided beside the
   * claims, not in their loop: a decision may wait for its hook's lock (another replica
   * deciding), and other hooks' claims must not. The deliveries are held meanwhile.
   */
  private clearThrottled(limited: Sorted['limited']): void {
    const held = [...limited.values()].flatMap(({ deliveries }) => deliveries.map((c) => this.share.hold({ account: c.account_id, hook: c.hook_id, host: this.worker.hostOf(c.hook_id) ?? UNKNOWN_HOST })));
    const deciding: Promise<void> = this.throttle
      .clear(limited, this.worker.leaseMs)
      .then(({ cleared, wakeInMs }) => {
        for (const { delivery, ticket, delayMs } of cleared) this.start(delivery, { ticket, delayMs });
        if (wakeInMs !== null) this.wakeIn(wakeInMs);
      })
      .catch((err: Error) => this.log.warn(`rate-limited deliveries not decided (${err.message}); they are claimed again once their lease runs out`))
      .finally(() => {
        for (const holding of held) holding.release();
        this.attempts.delete(deciding);
        this.wake();
      });
    this.attempts.add(deciding);
  }

  /** Claims again in `ms` (or sooner, if already due sooner). */
  private wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.unblock && this.unblock.at <= at) return;
    clearTimeout(this.unblock?.timer);
    this.unblock = {
      at,
      timer: setTimeout(() => {
        this.unblock = undefined;
        this.wake();
      }, ms),
    };
  }

  /**
   * `throttled`: the delivery's entry in its throttled hook's log of sends, told when the
   * send is over (or never happened), and how long it waits before it may leave (held meanwhile).
   */
  private start(c: Claimed, throttled?: { ticket: string; delayMs: number }): void {
    const host = this.worker.hostOf(c.hook_id) ?? UNKNOWN_HOST;
    const holding = this.share.hold({ account: c.account_id, hook: c.hook_id, host });
    deliveriesHeld.inc();
    const ticket = throttled?.ticket;
    let sent = false;
    const send = () =>
      this.worker.attempt(c, host, () => {
        sent = true;
        if (ticket) this.throttle.sent(ticket);
        // The host can take another while this outcome is recorded.
        holding.leaveHost();
        this.wake();
      });
    const attempt = (throttled && throttled.delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, throttled.delayMs)).then(send) : send())
      .catch((err: Error) => this.log.warn(`attempt of ${c.webhook_id} not recorded (${err.message}); it is claimed again once its lease runs out`))
      .finally(() => {
        if (ticket && !sent) this.throttle.unused(ticket);
        holding.release();
        deliveriesHeld.dec();
        this.attempts.delete(attempt);
        this.wake();
      });
    this.attempts.add(attempt);
  }
}
