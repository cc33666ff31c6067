import { DispatcherEnv } from '@posthooks/config';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

export const dispatcher: ServiceDefinition<DispatcherEnv> = {
  name: 'dispatcher',
  env: DispatcherEnv,
  module: (env) => AppModule.forRoot(env),
  openApi: {
    title: 'posthooks dispatcher',
    description: 'The delivery log and replay (account API key): attempts per hook, what was never delivered across the account (failed, pending, cancelled), redeliver one delivery, recover everything that failed since a time. Errors: 401 {"error":"Unauthorized"}, 429 {"error":"too many failed authentications"} with Retry-After after 20 failed authentications from one address within a minute, 404 {"error":"NotFound"}, 400 {"error":"..."}.',
  },
  consumers: () => [
    // Fan-out only records deliveries (batched statements); order does not matter, so
    // large batches drain a burst of one account quickly and the claim, not LOADS'
    // arrival order, decides who is sent first (256 in flight: another account's event
    // behind 5,000 was recorded after ~700 ms; 1,024: ~300 ms). A short ack wait: what a
    // crashed replica held comes back to the others soon.
    { stream: 'LOADS', durable: 'dispatcher', concurrency: 1024, ackWaitMs: 10_000 },
    // Test pings from the registry: recorded like any delivery. (Its verify pings come as core NATS requests: HookVerifyResponder.)
    { stream: 'DELIVERIES', durable: 'dispatcher-deliveries', concurrency: 16, ackWaitMs: 10_000 },
  ],
};
