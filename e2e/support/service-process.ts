import { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { spawnService } from '../../tools/service-command.cjs';

const ROOT = join(__dirname, '..', '..');

export type ServiceName = 'ingest-gateway' | 'hook-registry' | 'load-simulator' | 'dispatcher' | 'email-notifier';
export const SERVICE_NAMES: ServiceName[] = ['ingest-gateway', 'hook-registry', 'load-simulator', 'dispatcher', 'email-notifier'];

/**
 * One service as the operator runs it: `node <flags> dist/apps/<name>/src/main.js`, built
 * by `npm test` before Jest starts, spawned by the module `npm start` and the benches use
 * (tools/service-command.cjs), so with the Node flags of its image. Its output is kept
 * for assertions.
 */
export class ServiceProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {
    for (const stream of [proc.stdout, proc.stderr]) if (stream) createInterface({ input: stream }).on('line', (l) => this.lines.push(l));
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
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

  /** Resolves once /health/ready answers 200; fails early if the process exits. */
  async ready(timeoutMs = 20_000): Promise<this> {
    let gone = false;
    void this.exited.then(() => (gone = true));
    await waitFor(
      `${this.name} to be ready`,
      async () => {
        if (gone) throw new Error(`${this.name} exited during start:\n${this.output}`);
        const res = await fetch(`${this.url}/health/ready`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
    return this;
  }

  /** kill -9: no shutdown hook runs, nothing is acked or flushed. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.stop('SIGKILL');
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}
