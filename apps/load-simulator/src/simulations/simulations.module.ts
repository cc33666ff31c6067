import { DynamicModule, Module } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { AdminOrAccountGuard } from './caller.guard';
import { ScheduleTicker } from './schedule-ticker';
import { SchedulesService } from './schedules.service';
import { SimulationsController } from './simulations.controller';
import { Simulator } from './simulator';

/**
 * Simulated and scheduled loads. Needs, from the app: `coreModules` (DataSource,
 * EventPublisher) with the Schedules migration, and `RegistryViewModule.forRoot()`.
 * The env comes in through forRoot because a provider of the importing AppModule is not
 * visible inside an imported module.
 */
@Module({})
export class SimulationsModule {
  static forRoot(env: LoadSimulatorEnv): DynamicModule {
    return {
      module: SimulationsModule,
      controllers: [SimulationsController],
      providers: [{ provide: LoadSimulatorEnv, useValue: env }, AdminOrAccountGuard, Simulator, SchedulesService, ScheduleTicker],
    };
  }
}
