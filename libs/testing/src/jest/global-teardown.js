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
  for await (const stream of jsm.streams.list()) {
    // Object stores too: their streams are OBJ_<namespaced bucket>.
    if (stream.config.name.startsWith(prefix) || stream.config.name.startsWith(`OBJ_${prefix}`)) await jsm.streams.delete(stream.config.name);
  }
  await nats.close();

  const pg = new Client({ connectionString: databaseUrl('postgres') });
  await pg.connect();
  const { rows } = await pg.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`posthooks_test_${run}%`]);
  for (const { datname } of rows) await pg.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  await pg.end();
};
