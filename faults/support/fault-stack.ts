import { PrivateNatsServer, testEnv } from '@posthooks/testing';
import { metric, StackApi } from '../../e2e/support/stack';
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
export class FaultStack extends StackApi {
  readonly services = new Map<ServiceName, ServiceProcess>();
  private readonly extra: ServiceProcess[] = [];
  protected override readonly registryWaitMs = 20_000;

  private constructor(
    readonly env: Record<string, string>,
    private readonly overrides: Partial<Record<ServiceName, Record<string, string>>>,
  ) {
    super();
  }

  /** `nats`: a private server, or a cluster (its URL lists every node). */
  static async start(name: string, nats: Pick<PrivateNatsServer, 'url'>, options: FaultStackOptions = {}): Promise<FaultStack> {
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
      await (await stack.spawn('hook-registry')).ready();
      const others = (options.services ?? ['dispatcher']).filter((s) => s !== 'hook-registry');
      // Every process spawned (and so known to stop()) before any readiness can fail.
      const spawned = await Promise.all(others.map((s) => stack.spawn(s)));
      await Promise.all(spawned.map((s) => s.ready()));
    } catch (err) {
      // Nothing it started may outlive a failed start (SIGKILL for one stuck in its start).
      await Promise.all(stack.all().map((s) => s.terminate()));
      throw err;
    }
    return stack;
  }

  private async spawn(name: ServiceName): Promise<ServiceProcess> {
    const s = await ServiceProcess.spawn(name, { ...this.env, ...this.overrides[name] });
    this.services.set(name, s);
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

  /** Starts the service again (after a kill), with the same settings; `readyMs` for a slower start than usual. */
  async restart(name: ServiceName, readyMs?: number): Promise<ServiceProcess> {
    return (await this.spawn(name)).ready(readyMs);
  }

  /** One more replica of a service, with the same settings. */
  async replica(name: ServiceName): Promise<ServiceProcess> {
    const s = await ServiceProcess.spawn(name, { ...this.env, ...this.overrides[name] });
    this.extra.push(s);
    return s.ready();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((s) => s.stop()));
  }

  /** Whether every process is still running and ready; a line per process for failure messages. */
  async health(): Promise<{ ok: boolean; lines: string[] }> {
    const lines: string[] = [];
    let ok = true;
    for (const s of this.all()) {
      // fetch's errors come from Node's realm, not Jest's: no `instanceof Error` here.
      const res = await fetch(`${s.url}/health/ready`).catch((err: { message?: string; cause?: { code?: string } }) => err);
      const state = 'status' in res ? `ready ${res.status}` : (s.ended ?? `${res.message} ${res.cause?.code ?? ''}`.trim());
      if (!('status' in res) || res.status !== 200) ok = false;
      lines.push(`${s.name}:${s.port} ${state}`);
    }
    return { ok, lines };
  }

  /**
   * The last lines of each process's output, for a failure message: a process that
   * ended first, with more of its output (its crash), as CI shows only part of a message.
   */
  tails(n = 15): string {
    const ended = this.all().filter((s) => s.ended);
    const running = this.all().filter((s) => !s.ended);
    return [...ended.map((s) => `--- ${s.name}:${s.port} ${s.ended}\n${s.lines.slice(-4 * n).join('\n')}`), ...running.map((s) => `--- ${s.name}:${s.port}\n${s.lines.slice(-n).join('\n')}`)].join('\n');
  }
}
