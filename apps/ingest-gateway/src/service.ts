import { IngestGatewayEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

export const ingestGateway: ServiceDefinition<IngestGatewayEnv> = {
  name: 'ingest-gateway',
  env: IngestGatewayEnv,
  module: (env) => AppModule.forRoot(env),
  openApi: {
    title: 'posthooks ingest-gateway',
    description: 'Incoming-webhook integrations (account API key) and the secret webhook URLs third parties POST JSON to. Errors are {"error":"..."}: 405 (Allow: POST), 404, 415, 413, 400; 401 {"error":"Unauthorized"} on the integrations API, 429 {"error":"too many failed authentications"} with Retry-After after 20 failed authentications from one address within a minute.',
  },
  // Incoming webhooks stream their bodies with their own limit (MAX_BODY_BYTES). Any
  // case: Express matches routes case-insensitively, and a body parsed here first would
  // leave the handler waiting for a body that never comes.
  rawBodyPaths: /^\/v1\/incoming\//i,
};
