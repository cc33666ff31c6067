import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { builtInDestinationDatabase, HookRegistryEnv } from '@posthooks/config';
import { Client, escapeIdentifier } from 'pg';
import { DataSource } from 'typeorm';

/** duplicate_database, and the unique violation two concurrent CREATE DATABASE of one name can give. */
const ALREADY_THERE = new Set(['42P04', '23505']);

/**
 * The built-in databases of destinations created without a connection (SPEC §2):
 * `posthooks_dest_<id>` on the services' Postgres server. Created when the destination
 * is (`ensure`, idempotent); at start, in the background, every destination on the
 * built-in database gets its database if it lacks one (destinations made before issue
 * 17, or a create that failed between commit and CREATE DATABASE).
 * Needs a registry role that may create databases (locally `postgres` can).
 */
@Injectable()
export class DestinationDatabases implements OnApplicationBootstrap {
  private readonly log = new Logger('DestinationDatabases');
  /** Settles once the start's pass is done (tests). */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DataSource,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  onApplicationBootstrap(): void {
    this.done = this.atStart().catch((err: Error) => this.log.error(`built-in destination databases not checked (next start tries again): ${err.message}`));
  }

  nameOf(destinationId: number): string {
    return builtInDestinationDatabase(this.env.DATABASE_URL, destinationId).name;
  }

  /**
   * The database's name once it exists. On a connection of its own, not the pool's: it is
   * called inside a create's transaction, and concurrent creates each holding a pool
   * connection while waiting for another would exhaust the pool. (And Postgres refuses
   * CREATE DATABASE inside a transaction anyway.)
   */
  async ensure(destinationId: number): Promise<string> {
    const { name } = builtInDestinationDatabase(this.env.DATABASE_URL, destinationId);
    const client = new Client({ connectionString: this.env.DATABASE_URL, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) {
        await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`).catch((err: { code?: string }) => {
          if (!ALREADY_THERE.has(err.code ?? '')) throw err;
        });
        this.log.log(`created the built-in destination database ${name}`);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    return name;
  }

  private async atStart(): Promise<void> {
    const builtIn = await this.db.query<{ id: number }[]>('SELECT id FROM destinations WHERE connection_url IS NULL ORDER BY id');
    for (const { id } of builtIn) await this.ensure(id);
  }
}
