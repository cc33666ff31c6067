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
  consumers: (env) => [
    // Fan-out is quick (one batched statement; the first attempts then run on their own); order does not matter.
    // A short ack wait: what a crashed replica held comes back to the others soon.
    { stream: 'LOADS', durable: 'dispatcher', concurrency: 16, ackWaitMs: 10_000 },
    // Each message is one attempt; ack_wait covers the slowest one (working() keeps it
    // alive meanwhile). Failures of the attempt are scheduled by the worker; Postgres or
    // NATS down is retried by the transport without counting toward dead-lettering.
    { stream: 'DELIVERIES', durable: 'dispatcher-deliveries', concurrency: env.DELIVERY_CONCURRENCY, ackWaitMs: env.DELIVERY_TIMEOUT_MS + 5_000 },
  ],
};
