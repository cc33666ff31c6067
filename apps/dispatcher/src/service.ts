import { DispatcherEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

export const dispatcher: ServiceDefinition<DispatcherEnv> = {
  name: 'dispatcher',
  env: DispatcherEnv,
  module: (env) => AppModule.forRoot(env),
  openApi: {
    title: 'posthooks dispatcher',
    description: 'The delivery log and replay (account API key): attempts per hook, redeliver one delivery, recover everything that failed since a time. Errors: 401 {"error":"Unauthorized"}, 404 {"error":"NotFound"}, 400 {"error":"..."}.',
  },
  consumers: () => [
    // Fan-out only records deliveries (one batched statement per fetched batch); order
    // does not matter, so a large batch drains a burst of one account quickly and the
    // claim, not LOADS' arrival order, decides who is sent first. A short ack wait: what
    // a crashed replica held comes back to the others soon.
    { stream: 'LOADS', durable: 'dispatcher', concurrency: 256, ackWaitMs: 10_000 },
    // Test pings from the registry: recorded like any delivery.
    { stream: 'DELIVERIES', durable: 'dispatcher-deliveries', concurrency: 16, ackWaitMs: 10_000 },
  ],
};
