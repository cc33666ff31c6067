import { HookRegistryEnv } from '@posthooks/config';
import { runService } from '@posthooks/runtime';
import { AppModule } from './app.module';

void runService({
  name: 'hook-registry',
  env: HookRegistryEnv,
  module: (env) => AppModule.forRoot(env),
});
