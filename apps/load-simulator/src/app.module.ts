import { DynamicModule, Module } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { coreModules } from '@posthooks/runtime';
import { IngestRecordsController } from './ingest-records/ingest-records.controller';

@Module({})
export class AppModule {
  static forRoot(env: LoadSimulatorEnv): DynamicModule {
    return { module: AppModule, imports: coreModules(env, { service: 'load-simulator', schema: 'load_simulator' }), controllers: [IngestRecordsController] };
  }
}
