import type { DataSourceOptions, MixedList } from 'typeorm';
import { ListeningPgClient } from './listening-pg-client';

export interface PersistenceOptions {
  url: string;
  /** The service's own schema: its tables and its `migrations` table live there. */
  schema: string;
  // TypeORM's own types for these lists (classes or glob paths).
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** Throws unless `schema` is a plain lower-case identifier (it is put into SQL unquoted-safe). */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}": use a-z, 0-9 and _`);
}

/**
 * Postgres options for one service. Migrations are files run by `runMigrations` under a
 * lock, never `synchronize` and never TypeORM's own `migrationsRun` (which takes no lock).
 */
export function createDataSourceOptions({ url, schema, entities, migrations }: PersistenceOptions): DataSourceOptions {
  assertSchemaName(schema);
  return {
    type: 'postgres',
    url,
    schema,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    logging: false,
    extra: {
      max: 10,
      connectionTimeoutMillis: 5000,
      // TypeORM qualifies its own queries with `schema`; this makes unqualified raw SQL in
      // migrations and queries land in the service's schema too, not in `public`.
      options: `-c search_path=${schema},public`,
      // pg-pool's option: its clients are of this class (a dead connection never ends the process).
      Client: ListeningPgClient,
    },
  };
}
