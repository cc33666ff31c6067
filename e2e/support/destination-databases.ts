import { builtInDestinationDatabase } from '@posthooks/config';
import { Client } from 'pg';

/**
 * Where the loader writes a destination's rows (issue 17): the destination's own
 * database, for the destinations tests make (no connection) the built-in one,
 * `<services database>_dest_<id>`. One client per destination, opened on first use.
 */
export class DestinationDatabases {
  private readonly clients = new Map<number, Promise<Client>>();

  constructor(private readonly databaseUrl: string) {}

  async query<T = Record<string, unknown>>(destinationId: number, sql: string, params?: unknown[]): Promise<T[]> {
    return ((await (await this.client(destinationId)).query(sql, params)).rows as T[]);
  }

  /** The rows of `sql`, or [] while the schema or table does not exist yet. */
  async rows<T = Record<string, unknown>>(destinationId: number, sql: string, params?: unknown[]): Promise<T[]> {
    return this.query<T>(destinationId, sql, params).catch(() => []);
  }

  async end(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map(async (c) => (await c).end()));
  }

  private client(destinationId: number): Promise<Client> {
    let client = this.clients.get(destinationId);
    if (!client) {
      const c = new Client({ connectionString: builtInDestinationDatabase(this.databaseUrl, destinationId).url });
      client = c.connect().then(() => c);
      // A failed connect is tried again next time.
      client.catch(() => this.clients.delete(destinationId));
      this.clients.set(destinationId, client);
    }
    return client;
  }
}
