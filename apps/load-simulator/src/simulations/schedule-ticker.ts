import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { PeriodicTask } from '@posthooks/runtime';
import { SchedulesService } from './schedules.service';

/** Looks for due schedules every SCHEDULE_CHECK_INTERVAL_MS. */
@Injectable()
export class ScheduleTicker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ticker: PeriodicTask;

  constructor(
    schedules: SchedulesService,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {
    this.ticker = new PeriodicTask('schedule sweep', new Logger('Schedules'), () => schedules.runDue());
  }

  onApplicationBootstrap(): void {
    this.ticker.start(this.env.SCHEDULE_CHECK_INTERVAL_MS);
  }

  /** Before NATS drains and Postgres closes (their onApplicationShutdown), so a run in progress can finish. */
  beforeApplicationShutdown(): Promise<void> {
    return this.ticker.stop();
  }
}
