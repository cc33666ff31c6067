import { IngestGatewayEnv } from '@posthooks/config';
import { runService } from '@posthooks/runtime';
import { AppModule } from './app.module';

void runService({
  name: 'ingest-gateway',
  env: IngestGatewayEnv,
  module: (env) => AppModule.forRoot(env),
});
