import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { SchedulesService } from './schedules.service';

/** Looks for due schedules every SCHEDULE_CHECK_INTERVAL_MS. */
@Injectable()
export class ScheduleTicker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Schedules');
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;

  constructor(
    private readonly schedules: SchedulesService,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // One sweep at a time: a slow one is not overtaken by the next tick.
      this.sweeping ??= this.schedules
        .runDue()
        .catch((err: Error) => this.log.warn(`schedule sweep failed: ${err.message}`))
        .finally(() => (this.sweeping = undefined));
    }, this.env.SCHEDULE_CHECK_INTERVAL_MS);
  }

  /** Before NATS drains and Postgres closes (their onApplicationShutdown), so a run in progress can finish. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }
}
