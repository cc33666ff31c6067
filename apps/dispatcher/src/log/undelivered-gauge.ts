import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { deliveriesUndelivered } from '../metrics';

/** How often the count is taken: the gauge is at most this old (plus the count's own time). */
export const UNDELIVERED_COUNT_MS = 60_000;
const FIRST_COUNT_MS = 5_000;

/**
 * Keeps `posthooks_deliveries_undelivered` by counting in Postgres now and then, not on
 * every scrape: one index-only count over deliveries_undelivered (which holds no
 * succeeded delivery) every UNDELIVERED_COUNT_MS (a minute: the count costs in the number of undelivered rows, 270 ms for 115,000 on this machine), however often /metrics is read. A
 * count that fails (Postgres away) leaves the last values and is tried at the next tick.
 */
@Injectable()
export class UndeliveredGauge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('UndeliveredGauge');
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;
  private counting?: Promise<void>;

  constructor(private readonly db: DataSource) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.count(), UNDELIVERED_COUNT_MS).unref();
    // The first count a little after start, not beside the scheduler's first claim.
    this.first = setTimeout(() => void this.count(), FIRST_COUNT_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    await this.counting;
  }

  /** Takes the count now (one at a time); resolves once the gauge has it. */
  count(): Promise<void> {
    this.counting ??= this.countNow().finally(() => (this.counting = undefined));
    return this.counting;
  }

  private async countNow(): Promise<void> {
    try {
      const rows = await this.db.query<{ state: 'failed' | 'pending'; n: string }[]>(
        `SELECT state, count(*) AS n FROM deliveries WHERE state IN ('failed', 'pending') AND state IN ('failed', 'pending', 'cancelled') GROUP BY state`,
      );
      for (const status of ['failed', 'pending'] as const) deliveriesUndelivered.set({ status }, Number(rows.find((r) => r.state === status)?.n ?? 0));
    } catch (err) {
      this.log.warn(`counting undelivered deliveries failed (${(err as Error).message}); the gauge keeps its last values`);
    }
  }
}
