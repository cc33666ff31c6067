import { EmailNotifierEnv } from '@posthooks/config';
import { runService } from '@posthooks/runtime';
import { AppModule } from './app.module';

void runService({
  name: 'email-notifier',
  env: EmailNotifierEnv,
  module: (env) => AppModule.forRoot(env),
  consumers: () => [{ stream: 'NOTIFY', durable: 'email-notifier' }],
});
