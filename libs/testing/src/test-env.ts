/**
 * The connection settings of this test run (set by the Jest global setup). A test file
 * asks for its own namespace so parallel test files never compete for messages.
 */
export interface TestEnv {
  NATS_URL: string;
  NATS_NAMESPACE: string;
  DATABASE_URL: string;
  /** The key that seals hook secrets: read only by the services that declare it (registry, dispatcher). */
  SECRETS_KEY: string;
  /** STREAM_MAX_BYTES_<STREAM>: small, since nats-server reserves them (global setup). */
  [streamMaxBytes: `STREAM_MAX_BYTES_${string}`]: string;
}

const CAPPED_STREAMS = ['LOADS', 'INGEST', 'NOTIFY', 'DELIVERIES', 'DEADLETTER'];

/** The stream limits of this run, as numbers (for code that provisions streams itself). */
export function testStreamLimits(): Record<'LOADS' | 'INGEST' | 'NOTIFY' | 'DELIVERIES' | 'DEADLETTER', number> {
  return Object.fromEntries(CAPPED_STREAMS.map((s) => [s, Number(process.env[`STREAM_MAX_BYTES_${s}`] ?? 64 * 1024 * 1024)])) as ReturnType<typeof testStreamLimits>;
}

export function testEnv(name?: string): TestEnv {
  const { NATS_URL, NATS_NAMESPACE, DATABASE_URL } = process.env;
  if (!NATS_URL || !NATS_NAMESPACE || !DATABASE_URL) {
    throw new Error('run tests with `npm test`: the Jest global setup provides NATS_URL, NATS_NAMESPACE and DATABASE_URL');
  }
  const suffix = name ? `_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}` : '';
  const limits = Object.fromEntries(Object.entries(testStreamLimits()).map(([s, bytes]) => [`STREAM_MAX_BYTES_${s}`, String(bytes)]));
  return { NATS_URL, NATS_NAMESPACE: `${NATS_NAMESPACE}${suffix}`, DATABASE_URL: suffix ? databaseVariant(DATABASE_URL, suffix) : DATABASE_URL, SECRETS_KEY: TEST_SECRETS_KEY, ...limits };
}

/** A sibling database of the run's (`posthooks_test_<run>_<name>`), dropped by the teardown too. */
function databaseVariant(url: string, suffix: string): string {
  const u = new URL(url);
  u.pathname = `${u.pathname}${suffix}`;
  return u.toString();
}

/** The SECRETS_KEY of services started by tests (32 bytes, base64; public, like TEST_ADMIN_TOKEN). */
export const TEST_SECRETS_KEY = 'dGVzdC1zZWNyZXRzLWtleS0wMTIzNDU2Nzg5YWJjZGU=';

/** The admin token of registries started by tests (at least 32 characters, like production's). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
