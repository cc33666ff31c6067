import { DynamicModule, Module } from '@nestjs/common';
import { decideSmtpTls, EmailNotifierEnv, SmtpTls } from '@posthooks/config';
import { RegistryViewModule } from '@posthooks/registry-view';
import { coreModules } from '@posthooks/runtime';
import { Init1764000500000 } from './database/migrations/1764000500000-init';
import { RetentionIndexes1764001500000 } from './database/migrations/1764001500000-retention-indexes';
import { EmailOutbox, SMTP_SENDER } from './email/email-outbox';
import { EmailStore } from './email/email-store';
import { SmtpSender } from './email/smtp-sender';
import { EmailRetention } from './retention/email-retention';
import { UndeliverableController } from './undeliverable/undeliverable.controller';
import { UndeliverableRecorder } from './undeliverable/undeliverable-recorder';

@Module({})
export class AppModule {
  static forRoot(env: EmailNotifierEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [...coreModules(env, { service: 'email-notifier', schema: 'email_notifier', migrations: [Init1764000500000, RetentionIndexes1764001500000] }), RegistryViewModule.forRoot()],
      controllers: [UndeliverableController],
      providers: [
        { provide: EmailNotifierEnv, useValue: env },
        // Not checked at start: an SMTP server that is down delays emails, it does not stop the notifier.
        { provide: SMTP_SENDER, useValue: new SmtpSender(env.SMTP_URL, env.EMAIL_FROM, env.SMTP_TIMEOUT_MS, smtpTls(env)) },
        EmailStore,
        EmailOutbox,
        UndeliverableRecorder,
        EmailRetention,
      ],
    };
  }
}

/** The env was validated at start (IsSmtpUrlWithTls), so the decision is a TLS mode. */
function smtpTls(env: EmailNotifierEnv): SmtpTls {
  const decision = decideSmtpTls(env.SMTP_URL, env.SMTP_ALLOW_PLAINTEXT);
  if (!decision.ok) throw new Error(`SMTP_URL: ${decision.problem}`);
  return decision.tls;
}
