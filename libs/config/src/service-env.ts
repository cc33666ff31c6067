// Decorator metadata (field types for implicit conversion) is recorded only if
// reflect-metadata is loaded before the env classes are defined.
import 'reflect-metadata';
import { IsBoolean, IsIn, IsInt, IsIP, IsOptional, Matches, Max, Min } from 'class-validator';
import { EnvBoolean, IsUrlList } from './env-decorators';

// Every field has an explicit type: for an inferred one tsc records `design:type Object`
// (and SWC nothing), and implicit conversion needs `Number` to turn "3" into 3.
/* eslint-disable @typescript-eslint/no-inferrable-types */

const MiB = 1024 * 1024;
const STREAM_BYTES_RULE = 'must be an integer of at least 1048576 (bytes)';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

/**
 * What every service reads. Field initializers are the defaults; a field without one
 * must be set in the environment (see `requiredEnvVars`). Each app extends this with
 * its own default PORT.
 */
export class ServiceEnv {
  @IsIn(NODE_ENVS, { message: `must be one of ${NODE_ENVS.join(', ')}` })
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'log';

  @IsInt({ message: 'must be an integer from 0 to 65535' })
  @Min(0, { message: 'must be an integer from 0 to 65535' })
  @Max(65535, { message: 'must be an integer from 0 to 65535' })
  PORT: number;

  /**
   * The address the HTTP server listens on. Unset: 127.0.0.1 in development (`npm start`
   * on a laptop exposes nothing to the network), every interface otherwise (a container
   * is reached through its pod or published port). See `listenHost`.
   */
  @IsOptional()
  @IsIP(undefined, { message: 'must be an IP address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::' })
  HOST?: string;

  @IsUrlList(['nats:', 'tls:'], { list: true }, { message: 'must be a nats:// or tls:// URL, or a comma-separated list of them' })
  NATS_URL: string = 'nats://127.0.0.1:4222';

  /**
   * NATS credentials, each service its own (k8s/base/nats-permissions.conf says what each
   * may do): a .creds file (`NATS_CREDS`), or a user and password. None: anonymous, as
   * the local development server expects. Never logged.
   */
  NATS_CREDS: string = '';
  NATS_USER: string = '';
  NATS_PASSWORD: string = '';
  /** CA certificate (PEM file) that signed the server's: connects with TLS when set. */
  NATS_TLS_CA: string = '';

  /** Prefixes subjects and stream names, so tests (and several stacks) never share them. */
  @Matches(/^[a-z0-9_]*$/, { message: 'may only contain a-z, 0-9 and _' })
  NATS_NAMESPACE: string = '';

  @IsInt({ message: 'must be an integer from 1 to 5' })
  @Min(1, { message: 'must be an integer from 1 to 5' })
  @Max(5, { message: 'must be an integer from 1 to 5' })
  NATS_STREAM_REPLICAS: number = 1;

  @IsUrlList(['postgres:', 'postgresql:'], { list: false }, { message: 'must be a postgres:// URL' })
  DATABASE_URL: string = 'postgres://postgres@127.0.0.1:5432/posthooks';

  /**
   * Behind a proxy (the k8s Ingress): the client address for the failed-authentication
   * limit is the last X-Forwarded-For hop instead of the socket's peer. Off by default,
   * as a client that reaches the service directly could write any X-Forwarded-For.
   */
  @EnvBoolean()
  @IsBoolean({ message: 'must be true, false, 1 or 0' })
  TRUST_PROXY: boolean = false;

  @IsInt({ message: 'must be a non-negative integer (milliseconds)' })
  @Min(0, { message: 'must be a non-negative integer (milliseconds)' })
  SHUTDOWN_TIMEOUT_MS: number = 10_000;

  /**
   * A message whose handler keeps failing with a real error for this long is
   * dead-lettered; outages (Postgres or NATS out of reach) never count (libs/messaging failure.ts).
   */
  @IsInt({ message: 'must be an integer of at least 1000 (milliseconds)' })
  @Min(1000, { message: 'must be an integer of at least 1000 (milliseconds)' })
  DEADLETTER_AFTER_MS: number = 20 * 60_000;

  /** First delay before a failed message is redelivered, doubled per delivery... */
  @IsInt({ message: 'must be an integer from 1 to 3600000 (milliseconds)' })
  @Min(1, { message: 'must be an integer from 1 to 3600000 (milliseconds)' })
  @Max(3_600_000, { message: 'must be an integer from 1 to 3600000 (milliseconds)' })
  MESSAGE_RETRY_BASE_MS: number = 1000;

  /** ...up to this (also the longest wait after an outage ends before work resumes). */
  @IsInt({ message: 'must be an integer from 1 to 3600000 (milliseconds)' })
  @Min(1, { message: 'must be an integer from 1 to 3600000 (milliseconds)' })
  @Max(3_600_000, { message: 'must be an integer from 1 to 3600000 (milliseconds)' })
  MESSAGE_RETRY_MAX_MS: number = 60_000;

  // Byte limits of the streams (REGISTRY has none). nats-server reserves a stream's
  // max_bytes on every replica when it is created, so together they must fit the
  // servers' max_file_store (8 GB in k8s/base/nats.yaml: these defaults take 5.25 GiB,
  // leaving the rest to REGISTRY). Every service provisions every stream, so every
  // service reads them all; tests and `npm start` set small ones.
  @IsInt({ message: STREAM_BYTES_RULE })
  @Min(1024 * 1024, { message: STREAM_BYTES_RULE })
  STREAM_MAX_BYTES_LOADS: number = 1024 * MiB;

  @IsInt({ message: STREAM_BYTES_RULE })
  @Min(1024 * 1024, { message: STREAM_BYTES_RULE })
  STREAM_MAX_BYTES_INGEST: number = 2048 * MiB;

  @IsInt({ message: STREAM_BYTES_RULE })
  @Min(1024 * 1024, { message: STREAM_BYTES_RULE })
  STREAM_MAX_BYTES_NOTIFY: number = 256 * MiB;

  @IsInt({ message: STREAM_BYTES_RULE })
  @Min(1024 * 1024, { message: STREAM_BYTES_RULE })
  STREAM_MAX_BYTES_DELIVERIES: number = 1024 * MiB;

  @IsInt({ message: STREAM_BYTES_RULE })
  @Min(1024 * 1024, { message: STREAM_BYTES_RULE })
  STREAM_MAX_BYTES_DEADLETTER: number = 1024 * MiB;
}

/** Where a service listens: HOST, else loopback in development, else every interface (undefined: Node's `::`/0.0.0.0). */
export function listenHost(env: Pick<ServiceEnv, 'HOST' | 'NODE_ENV'>): string | undefined {
  return env.HOST ?? (env.NODE_ENV === 'development' ? '127.0.0.1' : undefined);
}
