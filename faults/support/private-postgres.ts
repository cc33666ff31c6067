import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@posthooks/testing';

const run = promisify(execFile);
const BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A throwaway Postgres cluster of its own (initdb, pg_ctl) on a free port, for the
 * scenario that stops Postgres: the machine's shared server on 5432 serves other tests
 * and is never touched. Postgres refuses to run as root, so as root its commands run as
 * the `postgres` user, in a temporary directory that user owns.
 */
export class PrivatePostgres {
  private readonly dir: string;
  private running = false;

  private constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'posthooks-pg-'));
    if (userInfo().uid === 0) chownSync(this.dir, Number(process.env.POSTGRES_UID ?? uidOf('postgres')), Number(process.env.POSTGRES_GID ?? gidOf('postgres')));
  }

  static async start(): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(await freePort());
    try {
      await pg.pg('initdb', '-D', pg.data, '-U', 'postgres', '--auth=trust', '-N');
      await pg.startServer();
    } catch (err) {
      await pg.dispose();
      throw err;
    }
    return pg;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** A database on this server (created by the services' ensureDatabase). */
  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async startServer(): Promise<void> {
    await this.pg('pg_ctl', '-D', this.data, '-l', join(this.dir, 'log'), '-w', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`, 'start');
    this.running = true;
  }

  /** `pg_ctl stop -m fast`: connections are cut, as in a failover or a restart of the server. */
  async stopServer(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.running = false;
    await this.pg('pg_ctl', '-D', this.data, '-m', mode, '-w', 'stop');
  }

  async dispose(): Promise<void> {
    if (this.running) await this.stopServer('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async pg(tool: string, ...args: string[]): Promise<void> {
    const cmd = join(BIN, tool);
    if (userInfo().uid === 0) await run('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout: 60_000 });
    else await run(cmd, args, { timeout: 60_000 });
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
