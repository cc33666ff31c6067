import { LoadSimulatorEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';
import { MESSAGES_IN_FLIGHT } from './loading/batcher';

export const loadSimulator: ServiceDefinition<LoadSimulatorEnv> = {
  name: 'load-simulator',
  env: LoadSimulatorEnv,
  module: (env) => AppModule.forRoot(env),
  // Each message waits in its batch until the flush, so many are in flight at once.
  consumers: () => [{ stream: 'INGEST', durable: 'load-simulator', concurrency: MESSAGES_IN_FLIGHT, ackWaitMs: 60_000, maxDeliver: 200 }],
};
