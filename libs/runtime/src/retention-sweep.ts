import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { PeriodicTask } from './periodic-task';

/** How long after the start the first sweep runs (unless the interval is shorter). */
const FIRST_SWEEP_AFTER_MS = 60_000;

/**
 * A service's periodic removal of the data it owns once past its age (SPEC §12): a
 * minute after the start, then every interval. The subclass says what `sweep` removes
 * (in bounded batches, asking `stopping` between them) and returns what it removed per
 * kind, which is logged. At shutdown the sweep stops after its batch in progress, before
 * the database closes.
 */
export abstract class RetentionSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly log: Logger;
  private readonly ticker: PeriodicTask;
  private stopped = false;

  protected constructor(
    what: string,
    private readonly intervalMs: number,
  ) {
    this.log = new Logger(what);
    this.ticker = new PeriodicTask('retention sweep', this.log, () => this.run());
  }

  /** Removes what is past its age; returns how many rows of each kind went. */
  abstract sweep(): Promise<Record<string, number>>;

  /** True once the service is shutting down: a sweep stops between batches. */
  protected readonly stopping = (): boolean => this.stopped;

  onApplicationBootstrap(): void {
    // A first sweep soon after the start too: a service redeployed more often than every
    // interval would otherwise never sweep.
    this.ticker.start(this.intervalMs, Math.min(this.intervalMs, FIRST_SWEEP_AFTER_MS));
  }

  beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    return this.ticker.stop();
  }

  private async run(): Promise<void> {
    const removed = await this.sweep();
    const parts = Object.entries(removed).filter(([, n]) => n > 0);
    if (parts.length > 0) this.log.log(`removed ${parts.map(([kind, n]) => `${n} ${kind}`).join(', ')} past their retention`);
  }
}
