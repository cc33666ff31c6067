import { EmailNotifierEnv } from '@posthooks/config';
import { Subjects } from '@posthooks/contracts';
import { ServiceDefinition } from '@posthooks/runtime';
import { AppModule } from './app.module';

export const emailNotifier: ServiceDefinition<EmailNotifierEnv> = {
  name: 'email-notifier',
  env: EmailNotifierEnv,
  module: (env) => AppModule.forRoot(env),
  consumers: () => [
    // Only hook.undeliverable: NOTIFY's hook.gone is the registry's. The handler is one
    // short transaction (SMTP happens in the outbox), so the defaults fit.
    { stream: 'NOTIFY', durable: 'email-notifier', filterSubject: Subjects.HookUndeliverable, concurrency: 8 },
  ],
};
