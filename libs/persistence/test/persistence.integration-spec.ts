import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { testEnv, waitFor } from '@posthooks/testing';
import { Client, Pool } from 'pg';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { createDataSourceOptions, ensureDatabase, openDataSource, PersistenceModule, runMigrations } from '../src';

const { DATABASE_URL } = testEnv('persistence');
const SCHEMA = 'svc';

// Unqualified table names on purpose: they must land in the service's schema.
class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id serial PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}

class AddWidgetName1700000000001 implements MigrationInterface {
  name = 'AddWidgetName1700000000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE widgets ADD COLUMN name text');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE widgets DROP COLUMN name');
  }
}

class Broken1700000000000 implements MigrationInterface {
  name = 'Broken1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE nope (id int REFERENCES missing_table(id))');
  }
  async down(): Promise<void> {
    // nothing to undo
  }
}

const MIGRATIONS = [CreateWidgets1700000000000, AddWidgetName1700000000001];

function dataSourceFor(schema: string, migrations: (new () => MigrationInterface)[]): DataSource {
  return new DataSource(createDataSourceOptions({ url: DATABASE_URL, schema, entities: [], migrations }));
}

/** A plain connection for looking at the database from outside. */
async function admin(url = DATABASE_URL): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

async function databaseExists(name: string): Promise<boolean> {
  const url = new URL(DATABASE_URL);
  url.pathname = '/postgres';
  const client = await admin(url.toString());
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

const dataSources: DataSource[] = [];
const clients: Client[] = [];

afterAll(async () => {
  await Promise.all(dataSources.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
  await Promise.all(clients.map((c) => c.end()));
});

describe('ensureDatabase', () => {
  it('creates a missing database, also when several callers race', async () => {
    const url = testEnv('persistence_created').DATABASE_URL;
    const name = new URL(url).pathname.slice(1);
    expect(await databaseExists(name)).toBe(false);

    await Promise.all(Array.from({ length: 5 }, () => ensureDatabase(url)));

    expect(await databaseExists(name)).toBe(true);
    await expect(ensureDatabase(url)).resolves.toBeUndefined();
  });

  it('names the unreachable URL without its password', async () => {
    const error = await ensureDatabase('postgres://postgres:topsecret@127.0.0.1:1/posthooks').catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^Postgres is not reachable at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/posthooks: .*ECONNREFUSED/);
    expect((error as Error).message).not.toContain('topsecret');
  });
});

describe('runMigrations', () => {
  let db: Client;

  beforeAll(async () => {
    await ensureDatabase(DATABASE_URL);
    db = await admin();
    clients.push(db);
  });

  it('applies each migration once when two processes start at once', async () => {
    const [first, second] = [dataSourceFor(SCHEMA, MIGRATIONS), dataSourceFor(SCHEMA, MIGRATIONS)];
    dataSources.push(first, second);
    await Promise.all([first.initialize(), second.initialize()]);

    // Hold the lock ourselves until both runs are queued behind it, so they really overlap.
    const lockKey = `posthooks:migrations:${SCHEMA}`;
    await db.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    const runs = Promise.all([runMigrations(first, SCHEMA), runMigrations(second, SCHEMA)]);
    await waitFor('both runs waiting for the migration lock', async () => {
      const { rows } = await db.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_locks
         WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      return rows[0].waiting === 2;
    });
    await db.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);

    const applied = await runs;
    expect(applied).toContainEqual(['CreateWidgets1700000000000', 'AddWidgetName1700000000001']);
    expect(applied).toContainEqual([]);

    const { rows } = await db.query<{ name: string }>(`SELECT name FROM ${SCHEMA}.migrations ORDER BY id`);
    expect(rows.map((r) => r.name)).toEqual(['CreateWidgets1700000000000', 'AddWidgetName1700000000001']);
  });

  it('creates the schema, its tables and the migrations table inside the service schema', async () => {
    const { rows } = await db.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
       WHERE table_name IN ('migrations', 'widgets') ORDER BY table_name`,
    );
    expect(rows).toEqual([
      { table_schema: SCHEMA, table_name: 'migrations' },
      { table_schema: SCHEMA, table_name: 'widgets' },
    ]);
    const columns = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'widgets' AND column_name = 'name'`, [SCHEMA]);
    expect(columns.rowCount).toBe(1);
  });

  it('does nothing when run again', async () => {
    const again = dataSourceFor(SCHEMA, MIGRATIONS);
    dataSources.push(again);
    await again.initialize();

    await expect(runMigrations(again, SCHEMA)).resolves.toEqual([]);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.migrations`);
    expect(rows[0].n).toBe(2);
  });

  it('reports a failed migration with the URL and releases the lock', async () => {
    const error = await openDataSource({ url: DATABASE_URL, schema: 'broken', entities: [], migrations: [Broken1700000000000] }).catch((err: Error) => err);
    expect((error as Error).message).toMatch(/^Migrations of schema "broken" failed at postgres:\/\/\*\*\*@127\.0\.0\.1:5432\/posthooks_test_\w+_persistence: /);

    const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', ['posthooks:migrations:broken']);
    expect(rows[0].locked).toBe(true);
    await db.query('SELECT pg_advisory_unlock(hashtext($1))', ['posthooks:migrations:broken']);
    const table = await db.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = 'broken' AND table_name = 'nope'`);
    expect(table.rowCount).toBe(0);
  });
});

describe('PersistenceModule', () => {
  it('provides a connected DataSource with the schema migrated', async () => {
    const url = testEnv('persistence_module').DATABASE_URL;
    const moduleRef = await Test.createTestingModule({
      imports: [PersistenceModule.forRoot({ url, schema: 'mod', entities: [], migrations: MIGRATIONS })],
    }).compile();
    const dataSource = moduleRef.get<DataSource>(getDataSourceToken());
    try {
      expect(dataSource.isInitialized).toBe(true);
      const rows: { name: string }[] = await dataSource.query('SELECT name FROM mod.migrations ORDER BY id');
      expect(rows.map((r) => r.name)).toEqual(['CreateWidgets1700000000000', 'AddWidgetName1700000000001']);
    } finally {
      await moduleRef.close();
    }
    expect(dataSource.isInitialized).toBe(false); // closed with the app
  });

  it('fails fast at start with the unreachable URL', async () => {
    const started = Date.now();
    const compiled = Test.createTestingModule({
      imports: [PersistenceModule.forRoot({ url: 'postgres://postgres@127.0.0.1:1/posthooks', schema: 'mod', entities: [], migrations: [] })],
    }).compile();
    await expect(compiled).rejects.toThrow(/^Postgres is not reachable at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/posthooks: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('a connection the server cuts (Postgres stopped or failed over)', () => {
  it('does not end the process even when nobody listens to its client, and the pool goes on', async () => {
    await ensureDatabase(DATABASE_URL);
    const ds = dataSourceFor('cut', []);
    dataSources.push(ds);
    await ds.initialize();
    // Straight from the pool, as TypeORM gets it: neither the pool nor TypeORM listens yet.
    const pool = (ds.driver as PostgresDriver).master as Pool;
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const ended = new Promise((resolve) => client.once('end', resolve));
    const db = await admin();
    clients.push(db);
    await db.query('SELECT pg_terminate_backend($1)', [rows[0].pid]); // FATAL 57P01, as in a fast shutdown
    await ended;
    client.release(new Error('cut by the server'));
    expect(await ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});
