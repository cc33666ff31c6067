import { LoadSimulatorEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';
import { BYTES_IN_FLIGHT, MESSAGES_IN_FLIGHT } from './loading/batcher';

export const loadSimulator: ServiceDefinition<LoadSimulatorEnv> = {
  name: 'load-simulator',
  env: LoadSimulatorEnv,
  module: (env) => AppModule.forRoot(env),
  openApi: {
    title: 'posthooks load-simulator',
    description: 'Simulated and scheduled loads (account API key, or ADMIN_TOKEN). Errors: 401 {"error":"Unauthorized"}, 429 {"error":"too many failed authentications"} with Retry-After after 20 failed authentications from one address within a minute, 404 {"error":"NotFound"}, 400 {"error":"..."}.',
  },
  // Each message waits in its batch until the flush, so many are in flight at once; their
  // bytes are bounded too (bench: 500 messages of 512 KiB held 926 MB while flushes queued).
  consumers: () => [{ stream: 'INGEST', durable: 'load-simulator', concurrency: MESSAGES_IN_FLIGHT, maxBytesInFlight: BYTES_IN_FLIGHT, fetchBatch: 16, ackWaitMs: 60_000 }],
};
