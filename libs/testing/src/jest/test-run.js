// Names of this test run's own database and NATS namespace, shared by the Jest global
// setup and teardown (plain CommonJS: Jest loads these before any transform).
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const DEFAULT_ADMIN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

function natsUrl() {
  return process.env.TEST_NATS_URL || DEFAULT_NATS_URL;
}

/** A database on the test server, e.g. the run's own `posthooks_test_<run>`. */
function databaseUrl(database) {
  const url = new URL(process.env.TEST_DATABASE_URL || DEFAULT_ADMIN_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

const START_HINTS = {
  nats: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
  postgres: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
};

/** STREAM_MAX_BYTES_<STREAM> of every test run's streams (64 MiB each; production's are GiBs). */
const TEST_STREAM_MAX_BYTES = Object.fromEntries(['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES', 'DEADLETTER'].map((s) => [`STREAM_MAX_BYTES_${s}`, 64 * 1024 * 1024]));

module.exports = { natsUrl, databaseUrl, START_HINTS, TEST_STREAM_MAX_BYTES };
