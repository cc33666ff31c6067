import { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, TEST_ADMIN_TOKEN, TEST_SECRETS_KEY } from '@posthooks/testing';
import { spawnService } from '../../tools/service-command.cjs';

const ROOT = join(__dirname, '..', '..');

/** How long a service may take to be ready (see ready()). */
export const READY_TIMEOUT_MS = 45_000;

export type ServiceName = 'ingest-gateway' | 'hook-registry' | 'load-simulator' | 'dispatcher' | 'email-notifier';
export const SERVICE_NAMES: ServiceName[] = ['ingest-gateway', 'hook-registry', 'load-simulator', 'dispatcher', 'email-notifier'];

/**
 * One service as the operator runs it: `node <flags> dist/apps/<name>/src/main.js`, built
 * by `npm test` before Jest starts, spawned by the module `npm start` and the benches use
 * (tools/service-command.cjs), so with the Node flags of its image. Its output is kept
 * for assertions.
 */
export class ServiceProcess {
  /** Every process this Jest worker spawned, in order (a test checks that a failed start leaves none running). */
  static readonly spawned: ServiceProcess[] = [];
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the process has exited and its output has been read to the end. */
  private readonly closed: Promise<void>;

  private constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {
    for (const stream of [proc.stdout, proc.stderr]) if (stream) createInterface({ input: stream }).on('line', (l) => this.lines.push(l));
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.closed = new Promise((resolve) => proc.once('close', () => resolve()));
    ServiceProcess.spawned.push(this);
  }

  static async spawn(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
    const main = join(ROOT, 'dist', 'apps', name, 'src', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run the tests with \`npm test\`, which builds first`);
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const proc = spawnService(name, {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        // Read by the registry and the dispatcher only (they seal and open hook secrets with it).
        SECRETS_KEY: TEST_SECRETS_KEY,
        // The test run's throwaway CA, trusted as an operator trusts a private one.
        ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
        ...env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(name, port, proc);
  }

  /** The process id (to read its command line, say). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How the process ended ("exited with code 1", "killed by SIGKILL"), or undefined while it runs. */
  get ended(): string | undefined {
    if (this.proc.exitCode !== null) return `exited with code ${this.proc.exitCode}`;
    if (this.proc.signalCode !== null) return `killed by ${this.proc.signalCode}`;
    return undefined;
  }

  get output(): string {
    return this.lines.join('\n');
  }

  /**
   * Resolves once /health/ready answers 200. Fails as soon as the process exits, or after
   * `timeoutMs`, with the process's last output lines in the error. The default fits a
   * loaded 2-core machine, where services started together sometimes need more than 20 s.
   */
  async ready(timeoutMs = READY_TIMEOUT_MS): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.ended) {
        await this.closed; // the rest of its output
        throw new Error(`${this.name} ${this.ended} before it was ready; its output:\n${this.tail()}`);
      }
      const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (res?.status === 200) return this;
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready after ${timeoutMs} ms; its output:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The last lines of the output, for an error message. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** kill -9: no shutdown hook runs, nothing is acked or flushed. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.stop('SIGKILL');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` (a process stuck in its start may not stop). */
  async terminate(graceMs = 5000): Promise<void> {
    const timer = setTimeout(() => void this.stop('SIGKILL'), graceMs);
    await this.stop();
    clearTimeout(timer);
  }
}
