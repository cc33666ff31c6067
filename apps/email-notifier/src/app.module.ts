import { DynamicModule, Module } from '@nestjs/common';
import { EmailNotifierEnv } from '@posthooks/config';
import { coreModules } from '@posthooks/runtime';
import { UndeliverableController } from './undeliverable/undeliverable.controller';

@Module({})
export class AppModule {
  static forRoot(env: EmailNotifierEnv): DynamicModule {
    return { module: AppModule, imports: coreModules(env, { service: 'email-notifier', schema: 'email_notifier' }), controllers: [UndeliverableController] };
  }
}
