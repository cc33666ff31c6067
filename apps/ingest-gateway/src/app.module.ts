import { DynamicModule, Module } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { coreModules } from '@posthooks/runtime';

@Module({})
export class AppModule {
  static forRoot(env: IngestGatewayEnv): DynamicModule {
    return { module: AppModule, imports: coreModules(env, { service: 'ingest-gateway', schema: 'ingest_gateway' }) };
  }
}
