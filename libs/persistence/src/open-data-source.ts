import { DataSource, DataSourceOptions } from 'typeorm';
import { createDataSourceOptions, PersistenceOptions } from './data-source-options';
import { ensureDatabase, postgresUnreachable } from './ensure-database';
import { redactUrl } from '@posthooks/config';
import { runMigrations } from './run-migrations';

/**
 * Everything a service does with Postgres at start: create its database if missing,
 * connect, migrate its schema. Errors name the URL (password redacted). Used by
 * `PersistenceModule` and usable without Nest (a migration Job).
 */
export async function openDataSource(options: PersistenceOptions, dataSourceOptions: DataSourceOptions = createDataSourceOptions(options)): Promise<DataSource> {
  const where = redactUrl(options.url);
  await ensureDatabase(options.url);

  const dataSource = new DataSource(dataSourceOptions);
  try {
    await dataSource.initialize();
  } catch (err) {
    throw postgresUnreachable(options.url, err);
  }
  try {
    await runMigrations(dataSource, options.schema);
  } catch (err) {
    // Do not leave the pool open: it would keep a failed process alive.
    await dataSource.destroy().catch(() => undefined);
    throw new Error(`Migrations of schema "${options.schema}" failed at ${where}: ${(err as Error).message}`, { cause: err });
  }
  return dataSource;
}
