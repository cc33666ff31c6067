import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { EventPublisher } from '@posthooks/messaging';
import { Subjects } from '@posthooks/contracts';
import { PeriodicTask } from '@posthooks/runtime';
import { DeliveryStore } from './delivery-store';

/** How often leases are checked; a delivery whose worker died waits its lease plus this, at most. */
export const LEASE_SWEEP_INTERVAL_MS = 5000;
const BATCH = 500;

/**
 * A first attempt is made without a DELIVERIES message (DeliveryWorker.firstAttempt):
 * if its dispatcher dies during it, only the delivery's lease remembers it. This sweep,
 * in every replica, hands each pending delivery whose lease ran out to DELIVERIES. The
 * message is queued before the lease is cleared, so a crash in between repeats the
 * sweep rather than losing the delivery; two replicas sweeping the same row publish the
 * same message id, which JetStream de-duplicates, and an extra message is harmless
 * (the worker's lease and the delivery's state decide what it does).
 */
@Injectable()
export class LeaseSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('LeaseSweep');
  private readonly ticker = new PeriodicTask('lease sweep', this.log, () => this.sweep());

  constructor(
    private readonly store: DeliveryStore,
    private readonly publisher: EventPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.ticker.start(LEASE_SWEEP_INTERVAL_MS);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.ticker.stop();
  }

  /** Queues every delivery whose lease ran out; returns how many. */
  async sweep(): Promise<number> {
    let handed = 0;
    for (;;) {
      const expired = await this.store.expiredLeases(BATCH);
      if (expired.length === 0) break;
      await Promise.all(
        expired.map((d) => this.publisher.publish(Subjects.DeliveryRequested, { webhook_id: d.webhook_id, round: d.round }, { msgId: `${d.webhook_id}-${d.round}-swept-${d.attempts}` })),
      );
      await this.store.clearExpiredLeases(expired.map((d) => d.webhook_id));
      handed += expired.length;
    }
    if (handed > 0) this.log.warn(`handed ${handed} deliveries whose lease ran out to DELIVERIES`);
    return handed;
  }
}
