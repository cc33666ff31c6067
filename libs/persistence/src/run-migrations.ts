import { DataSource, MigrationExecutor } from 'typeorm';
import { assertSchemaName } from './data-source-options';

/**
 * Applies the pending migrations of `schema` and returns their names. Several processes
 * may start at once (replicas, the k8s migration Job): a session advisory lock makes them
 * take turns, so each migration runs exactly once and the later ones find nothing to do.
 * Lock, `CREATE SCHEMA` and migrations all use one connection, so the lock is held by the
 * very session that migrates, and a pool of one is enough.
 */
export async function runMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  assertSchemaName(schema);
  // TypeORM puts the `migrations` table in the DataSource's schema; a different one here
  // would lock and create one schema while recording the migrations in another.
  const configured = 'schema' in dataSource.options ? dataSource.options.schema : undefined;
  if (configured !== schema) throw new Error(`runMigrations: the DataSource's schema is "${configured}", not "${schema}"`);
  const lockKey = `posthooks:migrations:${schema}`;
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    try {
      // Under the lock: concurrent CREATE SCHEMA IF NOT EXISTS can fail on pg_namespace.
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
  } finally {
    await runner.release();
  }
}
