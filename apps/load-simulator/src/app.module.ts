import { DynamicModule, Module } from '@nestjs/common';
import { LoadSimulatorEnv, secretBoxFromEnv } from '@posthooks/config';
import { RegistryViewModule } from '@posthooks/registry-view';
import { coreModules } from '@posthooks/runtime';
import { DestinationPools } from './destination-pools/destination-pools';
import { Batcher } from './loading/batcher';
import { IngestRecordsController } from './loading/ingest-records.controller';
import { IntegrationLoads, IntegrationLoadsController } from './loading/integration-loads';
import { IntegrationLoads1764001800000 } from './database/migrations/1764001800000-integration-loads';
import { RecordRefs } from './loading/record-refs';
import { TableLoader } from './loading/table-loader';
import { RejectedRetention } from './retention/rejected-retention';
import { Schedules1764000300000, SimulationsModule } from './simulations';

@Module({})
export class AppModule {
  static forRoot(env: LoadSimulatorEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...coreModules(env, { service: 'load-simulator', schema: 'load_simulator', migrations: [Schedules1764000300000, IntegrationLoads1764001800000] }),
        // Destinations' connection URLs come sealed: only this view keeps and opens them (SPEC §12).
        RegistryViewModule.forRoot({ destinationSecrets: secretBoxFromEnv(env) }),
        SimulationsModule.forRoot(env),
      ],
      controllers: [IngestRecordsController, IntegrationLoadsController],
      providers: [{ provide: LoadSimulatorEnv, useValue: env }, DestinationPools, TableLoader, Batcher, RecordRefs, RejectedRetention, IntegrationLoads],
    };
  }
}
