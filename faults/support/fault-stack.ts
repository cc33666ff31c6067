import { PrivateNatsServer, TEST_ADMIN_TOKEN, testEnv, waitFor } from '@posthooks/testing';
import { connect } from 'nats';
import { metric } from '../../e2e/support/stack';
import { ServiceName, ServiceProcess } from '../../e2e/support/service-process';

export { metric };

export interface FaultStackOptions {
  /** Which services to run (the registry always runs, first). Default: registry and dispatcher. */
  services?: ServiceName[];
  /** Settings of every service (DELIVERY_RETRY_SCHEDULE, ...), and DATABASE_URL to use another Postgres. */
  common?: Record<string, string>;
  /** Settings of one service only. */
  overrides?: Partial<Record<ServiceName, Record<string, string>>>;
}

/**
 * The services of e2e/support/stack.ts as separate processes (the same ServiceProcess),
 * but on a private nats-server and with only the services a fault scenario needs: on a
 * 2-core machine, idle services cost start time and CPU. Its own namespace and database
 * (`testEnv(name)`), so the run's global teardown drops the database.
 */
export class FaultStack {
  readonly services = new Map<ServiceName, ServiceProcess>();
  private readonly extra: ServiceProcess[] = [];

  private constructor(
    readonly env: Record<string, string>,
    private readonly overrides: Partial<Record<ServiceName, Record<string, string>>>,
  ) {}

  static async start(name: string, nats: PrivateNatsServer, options: FaultStackOptions = {}): Promise<FaultStack> {
    const env: Record<string, string> = {
      ...testEnv(name),
      NATS_URL: nats.url,
      ALLOW_PRIVATE_TARGETS: 'true',
      // SMTP to a closed port unless the scenario brings its own server.
      SMTP_URL: 'smtp://127.0.0.1:9',
      // Stops at the end of a scenario should not wait the default 10 s for handlers.
      SHUTDOWN_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'warn',
      ...options.common,
    };
    const stack = new FaultStack(env, options.overrides ?? {});
    try {
      // The registry first: it creates the database the others then find.
      await stack.spawn('hook-registry');
      const others = (options.services ?? ['dispatcher']).filter((s) => s !== 'hook-registry');
      await Promise.all(others.map((s) => stack.spawn(s)));
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  private async spawn(name: ServiceName): Promise<ServiceProcess> {
    const s = await ServiceProcess.spawn(name, { ...this.env, ...this.overrides[name] });
    this.services.set(name, s);
    await s.ready(30_000);
    return s;
  }

  get(name: ServiceName): ServiceProcess {
    const s = this.services.get(name);
    if (!s) throw new Error(`${name} is not part of this fault stack`);
    return s;
  }

  /** Every process of the stack, replicas included. */
  all(): ServiceProcess[] {
    return [...this.services.values(), ...this.extra];
  }

  /** kill -9 of the service's main process; it is no longer part of the stack (health, stop) until restarted. */
  async kill(name: ServiceName): Promise<void> {
    const s = this.get(name);
    this.services.delete(name);
    await s.kill();
  }

  /** Starts the service again (after a kill), with the same settings. */
  restart(name: ServiceName): Promise<ServiceProcess> {
    return this.spawn(name);
  }

  /** One more replica of a service, with the same settings. */
  async replica(name: ServiceName): Promise<ServiceProcess> {
    const s = await ServiceProcess.spawn(name, { ...this.env, ...this.overrides[name] });
    this.extra.push(s);
    return s.ready(30_000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((s) => s.stop()));
  }

  async call<T = unknown>(service: ServiceName, method: string, path: string, token?: string, json?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(this.get(service).url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: json !== undefined ? JSON.stringify(json) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** As Stack.registryApplied: the registry's outbox is empty and these services' views have caught up. */
  async registryApplied(...services: ServiceName[]): Promise<void> {
    await waitFor('the registry outbox to drain', async () => (await metric(this.get('hook-registry'), /^posthooks_registry_outbox_pending/)) === 0, { timeoutMs: 20_000 });
    const nc = await connect({ servers: this.env.NATS_URL });
    const last = (await (await nc.jetstreamManager()).streams.info(`${this.env.NATS_NAMESPACE.toUpperCase()}_REGISTRY`)).state.last_seq;
    await nc.close();
    for (const s of services) await waitFor(`${s} to apply the registry's changes`, async () => (await metric(this.get(s), /^posthooks_registry_view_sequence/)) >= last, { timeoutMs: 20_000 });
  }

  async account(plan = 'advanced', email = 'data@acme.test'): Promise<{ id: number; key: string; destinationId: number }> {
    const acc = await this.call<{ id: number; api_key: string }>('hook-registry', 'POST', '/v1/accounts', TEST_ADMIN_TOKEN, { name: 'acme', plan, notification_email: email });
    if (acc.status !== 201) throw new Error(`account: ${acc.status} ${JSON.stringify(acc.body)}`);
    const dest = await this.call<{ id: number }>('hook-registry', 'POST', '/v1/destinations', acc.body.api_key, { name: 'warehouse', type: 'postgres' });
    return { id: acc.body.id, key: acc.body.api_key, destinationId: dest.body.id };
  }

  async hook(key: string, destinationId: number, url: string): Promise<{ id: number; secret: string }> {
    const res = await this.call<{ id: number; secret: string }>('hook-registry', 'POST', '/notifications/public/v1/api/hooks', key, { type: 'post_load', destination_id: destinationId, config: { url } });
    if (res.status !== 200) throw new Error(`hook: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Whether every process is still running and ready; a line per process for failure messages. */
  async health(): Promise<{ ok: boolean; lines: string[] }> {
    const lines: string[] = [];
    let ok = true;
    for (const s of this.all()) {
      const res = await fetch(`${s.url}/health/ready`).catch((err: Error) => err);
      const state = res instanceof Error ? res.message : `ready ${res.status}`;
      if (res instanceof Error || res.status !== 200) ok = false;
      lines.push(`${s.name}:${s.port} ${state}`);
    }
    return { ok, lines };
  }

  /** The last lines of each process's output, for a failure message. */
  tails(n = 15): string {
    return this.all()
      .map((s) => `--- ${s.name}:${s.port}\n${s.lines.slice(-n).join('\n')}`)
      .join('\n');
  }
}
