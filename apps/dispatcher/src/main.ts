import { DispatcherEnv } from '@posthooks/config';
import { runService } from '@posthooks/runtime';
import { AppModule } from './app.module';

void runService({
  name: 'dispatcher',
  env: DispatcherEnv,
  module: (env) => AppModule.forRoot(env),
  consumers: () => [{ stream: 'LOADS', durable: 'dispatcher' }],
});
