import { readFileSync } from 'node:fs';
import { ConnectionOptions, credsAuthenticator } from 'nats';

/** The NATS_* credential settings of libs/config's ServiceEnv ('' = unset). */
export interface NatsAuthSettings {
  NATS_CREDS: string;
  NATS_USER: string;
  NATS_PASSWORD: string;
  NATS_TLS_CA: string;
}

export type NatsAuthOptions = Pick<ConnectionOptions, 'authenticator' | 'user' | 'pass' | 'tls'>;

/**
 * How a service authenticates to NATS: with a .creds file, or a user and password, or
 * (none set) anonymously, as the local development server expects; over TLS when a CA
 * is given. The options carry secrets: never log them. A contradictory setting stops the
 * start here, naming the variables (not their values).
 */
export function natsAuthOptions(s: NatsAuthSettings, readFile: (path: string) => Uint8Array = readFileSync): NatsAuthOptions {
  if (s.NATS_CREDS && (s.NATS_USER || s.NATS_PASSWORD)) throw new Error('NATS_CREDS and NATS_USER/NATS_PASSWORD are two ways to authenticate: set one of them');
  if (Boolean(s.NATS_USER) !== Boolean(s.NATS_PASSWORD)) throw new Error('NATS_USER and NATS_PASSWORD must be set together');
  const options: NatsAuthOptions = {};
  if (s.NATS_CREDS) options.authenticator = credsAuthenticator(readOrSay(readFile, s.NATS_CREDS, 'NATS_CREDS'));
  if (s.NATS_USER) Object.assign(options, { user: s.NATS_USER, pass: s.NATS_PASSWORD });
  if (s.NATS_TLS_CA) {
    readOrSay(readFile, s.NATS_TLS_CA, 'NATS_TLS_CA'); // a missing file stops the start with its variable's name
    options.tls = { caFile: s.NATS_TLS_CA };
  }
  return options;
}

function readOrSay(readFile: (path: string) => Uint8Array, path: string, variable: string): Uint8Array {
  try {
    return readFile(path);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
