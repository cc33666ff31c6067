import { INestApplication } from '@nestjs/common';
import { EmailNotifierEnv, loadEnv } from '@posthooks/config';
import { AccountChangedEvent, HookUndeliverableEvent, Subjects } from '@posthooks/contracts';
import { EventPublisher, NatsNaming } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { createServiceApp } from '@posthooks/runtime';
import { SmtpSink, testEnv, waitFor } from '@posthooks/testing';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { emailNotifier } from '../src/service';

let nextId = 1;

export interface EmailRowJson {
  id: string;
  kind: 'undeliverable' | 'digest';
  hook_id: number;
  state: string;
  attempts: number;
  folded: number;
  to_address: string | null;
  last_error: string | null;
  message_id: string;
}

/**
 * The notifier in-process, built as its main builds it, against the run's NATS and
 * Postgres and a real SMTP server. Tests speak to it through its contract only: the
 * registry's account events and the dispatcher's hook.undeliverable on NATS, SMTP out.
 * Postgres is read to see what it recorded.
 */
export class Notifier {
  private constructor(
    readonly app: INestApplication,
    readonly env: EmailNotifierEnv,
    readonly url: string,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly naming: NatsNaming,
    readonly publisher: EventPublisher,
  ) {}

  static async start(name: string, sink: SmtpSink, overrides: Record<string, string> = {}): Promise<Notifier> {
    const env = loadEnv(EmailNotifierEnv, {
      ...testEnv(name),
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      SMTP_URL: sink.url,
      SMTP_TIMEOUT_MS: '2000',
      EMAIL_RETRY_BASE_MS: '100',
      EMAIL_RETRY_MAX_MS: '400',
      EMAIL_FROM: 'posthooks test <alerts@posthooks.test>',
      ...overrides,
    });
    const app = await createServiceApp(emailNotifier, env);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const nc = await connect({ servers: env.NATS_URL });
    const naming = new NatsNaming(env.NATS_NAMESPACE);
    return new Notifier(app, env, `http://127.0.0.1:${port}`, nc, await nc.jetstreamManager(), naming, new EventPublisher(nc.jetstream(), naming));
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.nc.close();
  }

  get view(): RegistryView {
    return this.app.get(RegistryView);
  }

  get db(): DataSource {
    return this.app.get(DataSource);
  }

  /** An account as the registry announces it. */
  async account(opts: { undeliverableEmail?: boolean; id?: number } = {}): Promise<{ id: number; email: string }> {
    const id = opts.id ?? nextId++;
    const email = `data-${id}@acme.test`;
    await this.setAccount({ account_id: id, name: `acme ${id}`, plan: 'advanced', trial_ends_at: null, notification_email: email, undeliverable_email: opts.undeliverableEmail ?? true, changed_by: 'test', changed_at: new Date().toISOString() });
    return { id, email };
  }

  /** `PUT /v1/accounts/{id}/notifications` as the registry publishes it. */
  async setUndeliverableEmail(accountId: number, on: boolean): Promise<void> {
    const account = this.view.accounts.get(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    await this.setAccount({ ...account, undeliverable_email: on, changed_at: new Date().toISOString() });
  }

  private async setAccount(a: AccountChangedEvent): Promise<void> {
    // On the account's own subject, as the registry publishes it (compacted REGISTRY).
    await this.publisher.publish(Subjects.AccountChanged, a, { msgId: `acct-${a.account_id}-${a.changed_at}-${a.undeliverable_email}`, key: String(a.account_id) });
    await waitFor('the view to know the account', () => this.view.accounts.get(a.account_id)?.undeliverable_email === a.undeliverable_email);
  }

  newHookId(): number {
    return nextId++;
  }

  /** An id for an account the registry has not announced (yet). */
  newAccountId(): number {
    return nextId++;
  }

  /** A hook.undeliverable as the dispatcher publishes it (message id per webhook and round). */
  async undeliverable(accountId: number, extra: Partial<HookUndeliverableEvent> & { round?: number } = {}): Promise<HookUndeliverableEvent> {
    const { round = 1, ...fields } = extra;
    const n = nextId++;
    const event: HookUndeliverableEvent = {
      event_id: `ev-${n}`,
      event_type: 'table.loaded',
      webhook_id: `msg_${n.toString(16).padStart(32, '0')}`,
      hook_id: fields.hook_id ?? this.newHookId(),
      client_id: accountId,
      url: 'https://hooks.acme.test/posthooks',
      integration_name: 'shopify',
      table_name: 'orders',
      attempts: 6,
      last_error: 'HTTP 503',
      last_status_code: 503,
      occurred_at: new Date().toISOString(),
      ...fields,
    };
    await this.publisher.publish(Subjects.HookUndeliverable, event, { msgId: `undeliverable-${event.webhook_id}-${round}` });
    return event;
  }

  async emails(hookId: number): Promise<EmailRowJson[]> {
    return this.db.query<EmailRowJson[]>('SELECT * FROM emails WHERE hook_id = $1 ORDER BY id', [hookId]);
  }

  async outcomes(hookId: number): Promise<string[]> {
    const rows = await this.db.query<{ outcome: string }[]>('SELECT outcome FROM undeliverable_events WHERE hook_id = $1 ORDER BY received_at', [hookId]);
    return rows.map((r) => r.outcome);
  }

  /** The value of a /metrics series, e.g. `posthooks_undeliverable_events_total` with `outcome="duplicate"`; 0 if absent. */
  async metric(name: string, label: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  /** Every message of NOTIFY handled (acked), and nothing in the outbox being sent or due. */
  async idle(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      'the notifier to be idle',
      async () => {
        const info = await this.jsm.consumers.info(this.naming.stream('NOTIFY'), 'email-notifier');
        if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
        const [{ n }] = await this.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM emails WHERE state = 'sending' OR (state = 'pending' AND next_attempt_at <= now())`);
        return n === 0;
      },
      { timeoutMs },
    );
  }
}
