import { Logger } from '@nestjs/common';

/**
 * Runs `task` every interval, one run at a time: a slow run is not overtaken by the next
 * tick. A failed run is logged as a warning (`<what> failed: <message>`) and the next tick
 * tries again. `stop` clears the timer and waits for a run in progress, so a service
 * calls it before its database and NATS connection close.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private first?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly what: string,
    private readonly log: Logger,
    private readonly task: () => Promise<unknown>,
  ) {}

  /**
   * `firstAfterMs`: also run once that soon, for a long interval that a service restarted
   * more often than it would otherwise never reach.
   */
  start(intervalMs: number, firstAfterMs?: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    if (firstAfterMs !== undefined) this.first = setTimeout(() => this.tick(), firstAfterMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.first);
    await this.running;
  }

  private tick(): void {
    this.running ??= this.task()
      .then(
        () => undefined,
        (err: Error) => this.log.warn(`${this.what} failed: ${err.message}`),
      )
      .finally(() => (this.running = undefined));
  }
}
