import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { waitFor } from './wait-for';

/**
 * A port nothing listens on, for a server a test starts. It is drawn below Linux's
 * ephemeral range (32768-60999): a port the kernel hands out (`listen(0)`) is also one it
 * hands to the next outgoing connection, so between our probe and the server's bind any
 * client of the busy test machine could take it (seen once in CI: a private nats-server
 * never listened). A clash with another test drawing the same port is still possible, so
 * the servers started here retry on a new port when theirs is taken.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await bindable(port)) return port;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
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
  private proc?: ChildProcess;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'posthooks-nats-'));

  private constructor(
    private port: number,
    private readonly config?: NatsServerConfig,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts on a free port; a port taken between the probe and the bind means another one. */
  static async start(config?: NatsServerConfig): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort(), config);
    for (let attempt = 1; ; attempt++) {
      try {
        await server.restart();
        return server;
      } catch (err) {
        if (!(err instanceof PortTaken) || attempt === 5) throw err;
        server.port = await freePort();
      }
    }
  }

  /** Starts the server again on its port and store; fails with its own output if it exits instead. */
  async restart(): Promise<void> {
    if (this.proc) await this.stop();
    const proc = this.config ? this.spawnWithConfig(this.config) : spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => {
        const failure = `nats-server on port ${this.port} exited (${code}) before listening: ${output.trim()}`;
        reject(/address already in use/i.test(output) ? new PortTaken(failure) : new Error(failure));
      }),
    );
    exited.catch(() => undefined);
    try {
      // 30 s: on a loaded CI machine a JetStream server recovering its store can be slow.
      const listening = waitFor(`nats-server on port ${this.port}`, () => accepts(this.port), { timeoutMs: 30_000 }).catch((err: Error) => {
        throw new Error(`${err.message}; its output: ${output.trim() || 'none'}`);
      });
      await Promise.race([exited, listening]);
    } finally {
      // Output is kept only while starting; afterwards nothing reads it (the pipes are drained).
      proc.stdout?.off('data', keep).resume();
      proc.stderr?.off('data', keep).resume();
    }
  }

  private spawnWithConfig(config: NatsServerConfig): ChildProcess {
    const dir = join(this.storeDir, 'config');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const file of config.files) copyFileSync(file, join(dir, basename(file)));
    const tls = config.tls ? `tls { cert_file: "${config.tls.certFile}", key_file: "${config.tls.keyFile}" }\n` : '';
    writeFileSync(join(dir, 'server.conf'), `listen: 127.0.0.1:${this.port}\njetstream { store_dir: "${join(this.storeDir, 'js')}" }\n${tls}include ${basename(config.include)}\n`);
    return spawn('nats-server', ['-c', join(dir, 'server.conf')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...config.env } });
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

class PortTaken extends Error {}
