import { escapeIdentifier } from 'pg';
import { ListeningPgClient } from './listening-pg-client';
import { redactUrl } from '@posthooks/config';

export const POSTGRES_START_HINT = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

/** The error a service dies with when Postgres does not answer: the URL, and what to do. */
export function postgresUnreachable(databaseUrl: string, err: unknown): Error {
  return new Error(`Postgres is not reachable at ${redactUrl(databaseUrl)}: ${(err as Error).message}. To run it locally: ${POSTGRES_START_HINT}`, { cause: err });
}

const DUPLICATE_DATABASE = '42P04';
// Two concurrent CREATE DATABASE can also collide on pg_database's unique index.
const UNIQUE_VIOLATION = '23505';

/**
 * Creates the database named in `databaseUrl` if it does not exist, connecting to the
 * `postgres` maintenance database of the same server with the same credentials. Safe
 * when several services (or test files) start at once.
 */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) return; // no database in the URL: Postgres uses the user's, which must exist

  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new ListeningPgClient({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5000 });
  // An 'error' event without a listener (server gone mid-query) would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw postgresUnreachable(databaseUrl, err);
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return; // another caller won the race
    throw new Error(`Cannot create database "${name}" at ${redactUrl(databaseUrl)}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end();
  }
}
