import { INestApplication } from '@nestjs/common';
import { DispatcherEnv, loadEnv, secretBoxFromEnv } from '@posthooks/config';
import { defaultHookSettings, HookChangedEvent, HookSettings, HookUndeliverableEvent, LoadEvent, LoadStartedEvent, Plan, Subjects } from '@posthooks/contracts';
import { EventPublisher, NatsNaming } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { createServiceApp } from '@posthooks/runtime';
import { dispatcherIdle, RegistryEvents, streamMessages, testEnv, waitFor } from '@posthooks/testing';
import { connect, JetStreamManager, NatsConnection } from 'nats';
import { dispatcher } from '../src/service';

let nextId = 1;

/**
 * The dispatcher in-process, built as its main builds it. The test speaks to it only
 * through its contract: registry events and load events on NATS, HTTPS to receivers,
 * and its HTTP API.
 */
export class Dispatcher {
  private constructor(
    readonly app: INestApplication,
    readonly env: DispatcherEnv,
    readonly url: string,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly naming: NatsNaming,
    readonly publisher: EventPublisher,
    private readonly registry: RegistryEvents,
  ) {}

  static async start(name: string, overrides: Record<string, string> = {}): Promise<Dispatcher> {
    const env = loadEnv(DispatcherEnv, {
      ...testEnv(name),
      NODE_ENV: 'test',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      ALLOW_PRIVATE_TARGETS: 'true',
      DELIVERY_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms',
      DELIVERY_TIMEOUT_MS: '2000',
      ...overrides,
    });
    const app = await createServiceApp(dispatcher, env);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const nc = await connect({ servers: env.NATS_URL });
    const naming = new NatsNaming(env.NATS_NAMESPACE);
    return new Dispatcher(app, env, `http://127.0.0.1:${port}`, nc, await nc.jetstreamManager(), naming, new EventPublisher(nc.jetstream(), naming), new RegistryEvents(nc, env.NATS_NAMESPACE));
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.nc.close();
  }

  get view(): RegistryView {
    return this.app.get(RegistryView);
  }

  // The registry's side of the contract: the events it would publish, then seen by the view.

  async account(plan: Plan = 'advanced', trialEndsAt: string | null = null): Promise<{ id: number; key: string }> {
    const a = await this.registry.account(plan, { trialEndsAt });
    await waitFor('the view to know the account', () => this.view.accountOfKey(a.keyHash) === a.id);
    return a;
  }

  async setPlan(accountId: number, plan: Plan): Promise<void> {
    await this.registry.setAccount(accountId, plan);
    await waitFor('the view to see the plan', () => this.view.accounts.get(accountId)?.plan === plan);
  }

  async hook(accountId: number, url: string, opts: { destinationId?: number; secrets?: HookChangedEvent['secrets'] } = {}): Promise<HookChangedEvent> {
    const hook = await this.registry.hook(accountId, url, opts);
    await waitFor('the view to know the hook', () => this.view.hooks.has(hook.hook_id));
    return hook;
  }

  /** A change of an existing hook, as the registry would publish it (disable, re-enable, ...). */
  async changeHook(hook: HookChangedEvent, changes: Partial<HookChangedEvent>): Promise<HookChangedEvent> {
    const changed = { ...hook, ...changes, changed_at: new Date().toISOString() };
    // On the hook's own subject, as the registry publishes it (compacted REGISTRY).
    await this.publisher.publish(Subjects.HookChanged, changed, { msgId: `test-hook-change-${hook.hook_id}-${nextId++}`, key: String(hook.hook_id) });
    const seen = () => {
      const now = this.view.hooks.get(hook.hook_id) as unknown as Record<string, unknown> | undefined;
      return now !== undefined && Object.entries(changes).every(([k, v]) => JSON.stringify(now[k]) === JSON.stringify(v));
    };
    await waitFor('the view to see the hook change', seen);
    return changed;
  }

  /** A load event as a bare `nats pub table.loaded` sends it: no event_id, no Nats-Msg-Id. */
  async rawLoad(accountId: number, extra: Partial<LoadEvent> = {}): Promise<void> {
    await this.nc.jetstream().publish(this.naming.subject(Subjects.TableLoaded), JSON.stringify({ client_id: accountId, integration_name: 'shopify', table_name: 'orders', ...extra }));
  }

  /** The value of a counter (without labels) in /metrics, 0 if absent. */
  async counter(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  /** A load event, as `nats pub table.loaded` would send it (here with an id). */
  async load(accountId: number, extra: Partial<LoadEvent> = {}, subject: 'table.loaded' | 'table.rejected' = 'table.loaded'): Promise<string> {
    const eventId = extra.event_id ?? `ev-${nextId++}`;
    await this.publisher.publish(subject === 'table.loaded' ? Subjects.TableLoaded : Subjects.TableRejected, Object.assign(new LoadEvent(), { client_id: accountId, integration_name: 'shopify', table_name: 'orders', num_rows: 100, event_id: eventId, ...extra }), { msgId: eventId });
    return eventId;
  }

  /** A `load.started`, as `nats pub load.started` would send it (here with an id). */
  async started(accountId: number, extra: Partial<LoadStartedEvent> = {}): Promise<string> {
    const eventId = extra.event_id ?? `ev-${nextId++}`;
    await this.publisher.publish(Subjects.LoadStarted, Object.assign(new LoadStartedEvent(), { client_id: accountId, integration_name: 'shopify', table_name: 'orders', event_id: eventId, ...extra }), { msgId: eventId });
    return eventId;
  }

  /**
   * New settings of a hook, as the registry publishes them: header values sealed under
   * SECRETS_KEY (a value already sealed, or `clear: true`, is published as it is).
   */
  async setSettings(hook: HookChangedEvent, settings: Partial<Omit<HookSettings, 'headers'>> & { headers?: Record<string, string> }, opts: { clear?: boolean } = {}): Promise<HookChangedEvent> {
    const box = secretBoxFromEnv(this.env);
    const headers = Object.entries(settings.headers ?? {}).map(([name, value]) => ({ name, value: opts.clear ? value : box.seal(value) }));
    return this.changeHook(hook, { settings: { ...defaultHookSettings(), ...settings, headers } });
  }

  /** Messages dead-lettered from this logical subject, with their reasons. */
  async deadLetters(subject: string): Promise<{ reason: string; data: string }[]> {
    const messages = await streamMessages(this.jsm, this.env.NATS_NAMESPACE, 'DEADLETTER', `deadletter.${subject}`);
    return messages.map((m) => ({ reason: m.header.get('Posthooks-Deadletter-Reason'), data: m.string() }));
  }

  /** Every hook.undeliverable on NOTIFY so far. */
  async undeliverables(): Promise<HookUndeliverableEvent[]> {
    return (await streamMessages(this.jsm, this.env.NATS_NAMESPACE, 'NOTIFY', Subjects.HookUndeliverable)).map((m) => m.json<HookUndeliverableEvent>());
  }

  /** Waits until neither consumer has anything pending or unacked, and no delivery is pending. */
  idle(timeoutMs = 10_000): Promise<void> {
    return dispatcherIdle(this.jsm, this.env.NATS_NAMESPACE, this.env.DATABASE_URL, timeoutMs);
  }

  async api<T = unknown>(method: string, path: string, key?: string, json?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + path, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) }, body: json ? JSON.stringify(json) : undefined });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

export interface AttemptJson {
  event_id: string;
  event_type: string;
  webhook_id: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'pending';
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  response_body: string | null;
  attempted_at: string;
  next_attempt_at: string | null;
}
