import { LoadSimulatorEnv } from '@posthooks/config';
import { runService } from '@posthooks/runtime';
import { AppModule } from './app.module';

void runService({
  name: 'load-simulator',
  env: LoadSimulatorEnv,
  module: (env) => AppModule.forRoot(env),
  consumers: () => [{ stream: 'INGEST', durable: 'load-simulator' }],
});
