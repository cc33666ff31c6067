import { INestApplication } from '@nestjs/common';
import { builtInDestinationDatabase, LoadSimulatorEnv } from '@posthooks/config';
import { RegistryView } from '@posthooks/registry-view';
import { RegistryEvents, waitFor } from '@posthooks/testing';
import { connect } from 'nats';
import { Client, escapeIdentifier } from 'pg';

/**
 * A destination on the built-in database, as the registry makes one: announced on
 * REGISTRY (the loader's view must know it), its database `<services db>_dest_<id>`
 * created. Returns a client of that database, where the loader writes its rows.
 */
export async function builtInDestination(app: INestApplication, env: LoadSimulatorEnv, destinationId: number, accountId = 7): Promise<Client> {
  const nc = await connect({ servers: env.NATS_URL });
  try {
    await new RegistryEvents(nc, env.NATS_NAMESPACE).destination(accountId, { id: destinationId });
  } finally {
    await nc.close();
  }
  await waitFor(`the loader's view to know destination ${destinationId}`, () => app.get(RegistryView).destinations.has(destinationId));
  const database = builtInDestinationDatabase(env.DATABASE_URL, destinationId);
  const admin = new Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database.name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${escapeIdentifier(database.name)}`);
  } finally {
    await admin.end();
  }
  const pg = new Client({ connectionString: database.url });
  await pg.connect();
  return pg;
}
