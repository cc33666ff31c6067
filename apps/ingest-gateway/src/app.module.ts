import { DynamicModule, Module } from '@nestjs/common';
import { IngestGatewayEnv } from '@posthooks/config';
import { GATEWAY_REGISTRY_SUBJECTS } from '@posthooks/contracts';
import { RegistryViewModule } from '@posthooks/registry-view';
import { coreModules } from '@posthooks/runtime';
import { Init1764000200000 } from './database/migrations/1764000200000-init';
import { IntegrationSchemas1764002300000 } from './database/migrations/1764002300000-integration-schemas';
import { IncomingController } from './incoming/incoming.controller';
import { IncomingFastPath } from './incoming/incoming.fast-path';
import { IncomingHandler } from './incoming/incoming.handler';
import { IngestService } from './incoming/ingest.service';
import { IntegrationsController } from './integrations/integrations.controller';
import { IntegrationsService } from './integrations/integrations.service';

@Module({})
export class AppModule {
  static forRoot(env: IngestGatewayEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [...coreModules(env, { service: 'ingest-gateway', schema: 'ingest_gateway', migrations: [Init1764000200000, IntegrationSchemas1764002300000] }), RegistryViewModule.forRoot({ subjects: GATEWAY_REGISTRY_SUBJECTS })],
      controllers: [IntegrationsController, IncomingController],
      providers: [{ provide: IngestGatewayEnv, useValue: env }, IntegrationsService, IngestService, IncomingHandler, IncomingFastPath],
    };
  }
}
