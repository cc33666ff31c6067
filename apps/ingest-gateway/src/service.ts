import { IngestGatewayEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

export const ingestGateway: ServiceDefinition<IngestGatewayEnv> = {
  name: 'ingest-gateway',
  env: IngestGatewayEnv,
  module: (env) => AppModule.forRoot(env),
  // Incoming webhooks stream their bodies with their own limit (MAX_BODY_BYTES).
  rawBodyPaths: /^\/v1\/incoming\//,
};
