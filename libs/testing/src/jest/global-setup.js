// Gives this `npm test` run its own database and NATS namespace (stream names and
// subjects), so two runs, or a run beside `npm start`, never share data. Fails loudly
// when NATS or Postgres is not reachable: integration tests are never skipped.
const { connect } = require('nats');
const { Client } = require('pg');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createThrowawayCa } = require('../tls/throwaway-ca');
const { natsUrl, databaseUrl, START_HINTS, TEST_STREAM_MAX_BYTES } = require('./test-run');

module.exports = async function globalSetup() {
  const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;

  const nats = await connect({ servers: natsUrl(), timeout: 3000, reconnect: false }).catch((err) => {
    throw new Error(`NATS is not reachable at ${natsUrl()} (${err.message}). Start it with:\n  ${START_HINTS.nats}`);
  });
  const jsm = await nats.jetstreamManager().catch((err) => {
    throw new Error(`NATS at ${natsUrl()} has no JetStream (${err.message}); start it with -js:\n  ${START_HINTS.nats}`);
  });
  await jsm.getAccountInfo();
  await nats.close();

  const pg = new Client({ connectionString: databaseUrl('postgres'), connectionTimeoutMillis: 3000 });
  await pg.connect().catch((err) => {
    throw new Error(`Postgres is not reachable at ${databaseUrl('postgres')} (${err.message}). Start it with:\n  ${START_HINTS.postgres}`);
  });
  await pg.end();

  // Workers inherit this environment. The database is created by the code under test
  // (libs/persistence creates a missing database), and dropped by the teardown.
  process.env.POSTHOOKS_TEST_RUN = run;
  process.env.NATS_URL = natsUrl();
  process.env.NATS_NAMESPACE = `t${run}`;
  process.env.DATABASE_URL = databaseUrl(`posthooks_test_${run}`);
  // nats-server reserves each stream's max_bytes when it creates it, and every test file
  // has its own streams: small limits, so many runs (and `npm start`) fit on one server.
  for (const [name, value] of Object.entries(TEST_STREAM_MAX_BYTES)) process.env[name] ??= String(value);

  // HTTPS receivers in tests present certificates of a CA made for this run; workers and
  // the services tests spawn trust it the way an operator trusts a private CA.
  process.env.POSTHOOKS_TEST_TLS_DIR = mkdtempSync(join(tmpdir(), 'posthooks-tls-'));
  process.env.NODE_EXTRA_CA_CERTS = createThrowawayCa(process.env.POSTHOOKS_TEST_TLS_DIR).ca;
};
