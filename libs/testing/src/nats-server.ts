import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { waitFor } from './wait-for';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Authorization for a private server: the shipped configuration files and what they read. */
export interface NatsServerConfig {
  /** Files copied beside the server's configuration (their includes are relative to it). */
  files: string[];
  /** The one of them the configuration includes (e.g. users.conf). */
  include: string;
  /** The environment the files read ($NATS_PASSWORD_..., $NATS_NKEY_...). */
  env: Record<string, string>;
  /** Serve TLS only, with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

/**
 * A private nats-server with JetStream on file storage, for tests that stop, kill or
 * restart the server, or run it with the shipped permissions. Restarting keeps its port
 * and store, like a real restart.
 */
export class PrivateNatsServer {
  readonly url: string;
  private proc?: ChildProcess;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'posthooks-nats-'));

  private constructor(
    private readonly port: number,
    private readonly config?: NatsServerConfig,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  static async start(config?: NatsServerConfig): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), config);
    await server.restart();
    return server;
  }

  async restart(): Promise<void> {
    if (this.proc) await this.stop();
    this.proc = this.config ? this.spawnWithConfig(this.config) : spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    await waitFor(`nats-server on port ${this.port}`, () => accepts(this.port));
  }

  private spawnWithConfig(config: NatsServerConfig): ChildProcess {
    const dir = join(this.storeDir, 'config');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const file of config.files) copyFileSync(file, join(dir, basename(file)));
    const tls = config.tls ? `tls { cert_file: "${config.tls.certFile}", key_file: "${config.tls.keyFile}" }\n` : '';
    writeFileSync(join(dir, 'server.conf'), `listen: 127.0.0.1:${this.port}\njetstream { store_dir: "${join(this.storeDir, 'js')}" }\n${tls}include ${basename(config.include)}\n`);
    return spawn('nats-server', ['-c', join(dir, 'server.conf')], { stdio: 'ignore', env: { ...process.env, ...config.env } });
  }

  /** Stops the server (SIGTERM, or SIGKILL for a crash) and waits until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
