import { DynamicModule } from '@nestjs/common';
import { ServiceEnv } from '@posthooks/config';
import { MessagingModule, natsAuthOptions, streamByteLimits } from '@posthooks/messaging';
import { ObservabilityModule } from '@posthooks/observability';
import { PersistenceModule } from '@posthooks/persistence';
import type { MixedList } from 'typeorm';
import { FailedAuthModule } from './failed-auth-gate';

export interface CoreModulesOptions {
  service: string;
  /** The service's own Postgres schema: no service reads another's tables. */
  schema: string;
  // TypeORM's own types for these lists.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function>;
}

/** What every service imports: its Postgres schema, NATS with the streams, health and metrics, the failed-authentication limit. */
export function coreModules(env: ServiceEnv, options: CoreModulesOptions): DynamicModule[] {
  return [
    PersistenceModule.forRoot({ url: env.DATABASE_URL, schema: options.schema, entities: options.entities ?? [], migrations: options.migrations ?? [] }),
    MessagingModule.forRoot({ url: env.NATS_URL, namespace: env.NATS_NAMESPACE, replicas: env.NATS_STREAM_REPLICAS, name: options.service, streamMaxBytes: streamByteLimits(env), auth: natsAuthOptions(env) }),
    ObservabilityModule.forRoot(options.service),
    FailedAuthModule.forRoot({ trustProxy: env.TRUST_PROXY }),
  ];
}
