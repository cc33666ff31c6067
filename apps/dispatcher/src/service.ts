import { DispatcherEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

export const dispatcher: ServiceDefinition<DispatcherEnv> = {
  name: 'dispatcher',
  env: DispatcherEnv,
  module: (env) => AppModule.forRoot(env),
  consumers: (env) => [
    // Fan-out is quick (a query and a few publishes); order does not matter.
    { stream: 'LOADS', durable: 'dispatcher', concurrency: 16 },
    // Each message is one attempt; ack_wait covers the slowest one (working() keeps it).
    { stream: 'DELIVERIES', durable: 'dispatcher-deliveries', concurrency: env.DELIVERY_CONCURRENCY, ackWaitMs: env.DELIVERY_TIMEOUT_MS + 30_000, maxDeliver: 1000 },
  ],
};
