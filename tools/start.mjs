#!/usr/bin/env node
// `npm start`: checks that NATS (with JetStream) and Postgres answer, builds, and runs
// the five services as separate processes with their output prefixed. Ctrl-C (or
// SIGTERM) stops them all gracefully; if one dies, the others are stopped too.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import pg from 'pg';
import { withDemoCa } from './demo-tls.mjs';
import { readableLine } from './log-lines.mjs';
import { spawnService } from './service-command.cjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['hook-registry', 'ingest-gateway', 'load-simulator', 'dispatcher', 'email-notifier'];
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/posthooks';
const HINTS = {
  nats: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
  postgres: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
};
// Development only: the admin token of the README's walk-through, hooks on localhost (the
// demo receiver), and the demo receiver's throwaway CA trusted by the dispatcher.
// Production sets none of these, and refuses that token (libs/config admin-token.ts).
// In development the services listen on 127.0.0.1 only (HOST unset: listenHost).
const development = !process.env.NODE_ENV || process.env.NODE_ENV === 'development';
// People read development logs; production keeps the services' JSON lines (tools/log-lines.mjs).
const readable = development && process.env.LOG_FORMAT !== 'json';
if (development) {
  process.env.ADMIN_TOKEN ??= 'posthooks-dev-admin-token-change-me';
  process.env.ALLOW_PRIVATE_TARGETS ??= 'true';
  process.env.NODE_EXTRA_CA_CERTS = withDemoCa(process.env.NODE_EXTRA_CA_CERTS);
  process.env.SECRETS_KEY ||= developmentSecretsKey();
  // Undeliverable emails link to the hook's deliveries in the console the registry serves.
  process.env.CONSOLE_URL ??= 'http://localhost:3002/console';
}

/**
 * The SECRETS_KEY that seals hook secrets in development: created once in the git-ignored
 * `.secrets-key` and reused, so secrets sealed by one `npm start` open at the next. Only
 * the registry and the dispatcher read it (the other services do not declare it).
 */
function developmentSecretsKey() {
  const file = new URL('../.secrets-key', import.meta.url);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}
// nats-server reserves each stream's byte limit when it creates the stream: on one
// machine's NATS, beside test runs, 64 MiB per stream rather than production's GiBs.
for (const stream of ['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES', 'DEADLETTER']) process.env[`STREAM_MAX_BYTES_${stream}`] ??= String(64 * 1024 * 1024);
const redact = (url) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

function fail(what, url, err, hint) {
  console.error(`\n${what} is not reachable at ${redact(url)}: ${err.message}\nStart it with:\n  ${hint}\n`);
  process.exit(1);
}

async function preflight() {
  try {
    const nc = await connect({ servers: NATS_URL.split(','), timeout: 3000, reconnect: false });
    await (await nc.jetstreamManager()).getAccountInfo().finally(() => nc.close());
  } catch (err) {
    fail('NATS with JetStream', NATS_URL, err, HINTS.nats);
  }
  // The services create their own database if it is missing, so ask the server itself.
  const server = new URL(DATABASE_URL);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    fail('Postgres', DATABASE_URL, err, HINTS.postgres);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function build() {
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const children = new Map();
let stopping = false;

function run(name, script, args = []) {
  // Own process group: Ctrl-C reaches only this launcher, which then sends one SIGTERM,
  // so no service gets two signals in the middle of its graceful shutdown.
  // The service's Node flags (the gateway's heap limit) come from tools/service-command.cjs.
  const child = spawnService(name, { script, args, env: process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const label = name.padEnd(14);
  const show = readable ? (line) => readableLine(name, line, { colors: process.stdout.isTTY === true }) : (line) => `${label} | ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${show(line)}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      console.error(`${name} exited (${signal ?? `code ${code}`}); stopping the others`);
      process.exitCode = 1;
      stopAll();
    }
    if (children.size === 0) process.exit();
  });
  children.set(name, child);
}

function stopAll() {
  stopping = true;
  for (const child of children.values()) child.kill('SIGTERM');
}

await preflight();
build();
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (stopping ? null : (console.log('\nstopping posthooks...'), stopAll())));
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
// The SMTP sink first, so the notifier's first emails find it.
if (development) await startSmtpSink();
SERVICES.forEach((name) => run(name));
if (development) run('demo-receiver', 'tools/demo-receiver.mjs');

/**
 * Development only: MailDev catches the email-notifier's emails on 127.0.0.1:1025 (its
 * default SMTP_URL) and shows them at http://localhost:1080. Not started when SMTP_URL
 * is set, nor when something already listens on 1025 (then that server gets them).
 */
async function startSmtpSink() {
  if (process.env.SMTP_URL) return;
  const taken = await new Promise((resolve) => {
    const socket = createConnection(1025, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
  if (taken) return console.log('something already listens on 127.0.0.1:1025: emails go there (MailDev not started)');
  run('maildev', 'node_modules/maildev/dist/bin/maildev.js', ['--smtp', '1025', '--ip', '127.0.0.1', '--web', '1080', '--web-ip', '127.0.0.1']);
}
