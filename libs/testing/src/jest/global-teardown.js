// Removes what this run created: its databases and its namespaced streams.
const { connect } = require('nats');
const { rmSync } = require('node:fs');
const { Client } = require('pg');
const { natsUrl, databaseUrl } = require('./test-run');

module.exports = async function globalTeardown() {
  const run = process.env.POSTHOOKS_TEST_RUN;
  if (!run) return;
  if (process.env.POSTHOOKS_TEST_TLS_DIR) rmSync(process.env.POSTHOOKS_TEST_TLS_DIR, { recursive: true, force: true });

  const nats = await connect({ servers: natsUrl(), reconnect: false });
  const jsm = await nats.jetstreamManager();
  const prefix = `T${run}`.toUpperCase();
  // Names first, then deletes: the list is paged by offset, so deleting while it is read
  // skips streams once the server holds more than a page of them (a run's reservations
  // then stayed behind, until nats-server refused new streams: "insufficient storage").
  const ours = [];
  for await (const stream of jsm.streams.list()) {
    // Object stores too: their streams are OBJ_<namespaced bucket>.
    if (stream.config.name.startsWith(prefix) || stream.config.name.startsWith(`OBJ_${prefix}`)) ours.push(stream.config.name);
  }
  for (const name of ours) await jsm.streams.delete(name);
  await nats.close();

  const pg = new Client({ connectionString: databaseUrl('postgres') });
  await pg.connect();
  const { rows } = await pg.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`posthooks_test_${run}%`]);
  for (const { datname } of rows) await pg.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await pg.end();
};
