import { IsBoolean, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MinLength, Min, ValidateIf } from 'class-validator';
import { IsProductionAdminToken } from './admin-token';
import { EnvBoolean, IsDurationList, IsUrlList } from './env-decorators';
import { IsSecretsKey, IsSecretsKeyList, SECRETS_KEY_RULE } from './secrets-key';
import { IsSmtpUrlWithTls } from './smtp-tls';
import { ServiceEnv } from './service-env';

// One class per app, with the default ports of SPEC §1. Fields are explicitly typed
// for the same reason as in ServiceEnv.
/* eslint-disable @typescript-eslint/no-inferrable-types */

/** A number of days (a trial, a retention age): a positive whole number. */
function IsDays(): PropertyDecorator {
  return (target, key) => {
    IsInt({ message: 'must be a positive integer (days)' })(target, key);
    Min(1, { message: 'must be a positive integer (days)' })(target, key);
  };
}

/** How often a retention sweep runs: at least a second. */
function IsSweepInterval(): PropertyDecorator {
  return (target, key) => {
    IsInt({ message: 'must be an integer of at least 1000 (milliseconds)' })(target, key);
    Min(1000, { message: 'must be an integer of at least 1000 (milliseconds)' })(target, key);
  };
}

export class IngestGatewayEnv extends ServiceEnv {
  override PORT: number = 3001;

  @IsInt({ message: 'must be a positive integer (bytes)' })
  @Min(1, { message: 'must be a positive integer (bytes)' })
  MAX_BODY_BYTES: number = 4 * 1024 * 1024;

  /**
   * Bytes of incoming bodies the gateway holds at once (reading, parsing, publishing).
   * Further requests wait their turn, their bytes held back by TCP, so memory stays
   * bounded however many large posts arrive together.
   */
  @IsInt({ message: 'must be a positive integer (bytes)' })
  @Min(1, { message: 'must be a positive integer (bytes)' })
  BODIES_IN_FLIGHT_BYTES: number = 40 * 1024 * 1024;

  /**
   * How long a post may wait for BODIES_IN_FLIGHT_BYTES before it is answered 503 with
   * Retry-After: a sender is better told to come back than left hanging.
   */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(1, { message: 'must be a positive integer (milliseconds)' })
  BODIES_IN_FLIGHT_WAIT_MS: number = 10_000;

  /** How webhook URLs are shown to users: the gateway's address as the world reaches it. */
  @IsUrlList(['http:', 'https:'], { list: false }, { message: 'must be an http(s) URL' })
  PUBLIC_BASE_URL: string = 'http://localhost:3001';

  /**
   * The most of INGEST (of STREAM_MAX_BYTES_INGEST) one integration's records not yet
   * loaded may take: past it, its posts get 503 while other integrations still get 202.
   */
  @IsNumber({}, { message: 'must be a number above 0 and at most 1' })
  @Min(0.001, { message: 'must be a number above 0 and at most 1' })
  @Max(1, { message: 'must be a number above 0 and at most 1' })
  INGEST_SHARE: number = 0.1;
}

const SECRETS_KEY_MESSAGE = `is required unless NODE_ENV=development, and ${SECRETS_KEY_RULE}`;

/** SECRETS_KEY of a service that seals or opens secrets: required unless NODE_ENV=development, and then checked if given. */
function IsRequiredSecretsKey(): PropertyDecorator {
  return (target, key) => {
    ValidateIf((env: ServiceEnv & { SECRETS_KEY?: string }) => env.NODE_ENV !== 'development' || env.SECRETS_KEY !== undefined)(target, key);
    IsSecretsKey({ message: SECRETS_KEY_MESSAGE })(target, key);
  };
}

/** SECRETS_KEY_PREVIOUS: optional, a comma-separated list of keys. */
function IsPreviousSecretsKeys(): PropertyDecorator {
  return (target, key) => {
    IsOptional()(target, key);
    IsSecretsKeyList()(target, key);
  };
}

const ADMIN_TOKEN_RULE = 'is required unless NODE_ENV=development, at least 32 characters';

export class HookRegistryEnv extends ServiceEnv {
  override PORT: number = 3002;

  /**
   * No default on purpose: every deployment brings its own. Only in development may it
   * be unset, and then the admin API refuses every call (`npm start` sets a dev token).
   */
  @ValidateIf((env: HookRegistryEnv) => env.NODE_ENV !== 'development' || env.ADMIN_TOKEN !== undefined)
  @IsString({ message: ADMIN_TOKEN_RULE })
  @MinLength(32, { message: ADMIN_TOKEN_RULE })
  @IsProductionAdminToken()
  ADMIN_TOKEN?: string;

  /**
   * Seals hook signing secrets in Postgres and on REGISTRY (AES-256-GCM, SPEC §12). Only the
   * registry and the dispatcher hold it. Required except in development, where `npm start`
   * creates one once in the git-ignored `.secrets-key`; a service that needs it and has
   * none refuses to start all the same.
   */
  @IsRequiredSecretsKey()
  SECRETS_KEY?: string;

  /** During a key rotation: the previous keys, comma-separated, still accepted for opening (README, "Rotating SECRETS_KEY"). */
  @IsPreviousSecretsKeys()
  SECRETS_KEY_PREVIOUS?: string;

  /** Lets hooks point at private, loopback and link-local addresses: local use only. */
  @EnvBoolean()
  @IsBoolean({ message: 'must be true, false, 1 or 0' })
  ALLOW_PRIVATE_TARGETS: boolean = false;

  @IsDays()
  TRIAL_DAYS: number = 14;

  /**
   * How long `PUT /v1/hooks/{id}/settings` with `"verify": true` waits for the dispatcher's
   * answer: its delivery timeout (DELIVERY_TIMEOUT_MS, 30 s) and a margin.
   */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(100, { message: 'must be at least 100 (milliseconds)' })
  HOOK_VERIFY_TIMEOUT_MS: number = 35_000;

  /** How often ended trials are looked for, so they take effect without any API call. */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(10, { message: 'must be a positive integer (milliseconds)' })
  TRIAL_CHECK_INTERVAL_MS: number = 60_000;

  /** Audit rows older than this many days are removed (SPEC §12). */
  @IsDays()
  AUDIT_RETENTION_DAYS: number = 365;

  /**
   * The last message of a deleted hook or destination, or of a revoked API key, stays on
   * REGISTRY this many days (so a view that was away learns the deletion), then its
   * subject is purged (compacted REGISTRY, SPEC §12).
   */
  @IsDays()
  REGISTRY_TOMBSTONE_DAYS: number = 7;

  /**
   * The console (SPEC §11) reaches the other services' APIs through the registry, as a
   * same-origin proxy under /console/api/<service>/ (no CORS to configure): where they are.
   */
  @IsUrlList(['http:', 'https:'], { list: false }, { message: 'must be an http(s) URL' })
  DISPATCHER_URL: string = 'http://127.0.0.1:3004';

  @IsUrlList(['http:', 'https:'], { list: false }, { message: 'must be an http(s) URL' })
  INGEST_GATEWAY_URL: string = 'http://127.0.0.1:3001';

  @IsUrlList(['http:', 'https:'], { list: false }, { message: 'must be an http(s) URL' })
  LOAD_SIMULATOR_URL: string = 'http://127.0.0.1:3003';

  /** A proxied call that has not answered (headers) within this is answered 504. */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(100, { message: 'must be a positive integer (milliseconds), at least 100' })
  CONSOLE_PROXY_TIMEOUT_MS: number = 30_000;

  /** The console's built files (`npm run build` writes dist/console); unset: found beside the registry's build. */
  @IsOptional()
  @IsString()
  CONSOLE_DIR?: string;

  /** How often the retention sweep runs. */
  @IsSweepInterval()
  RETENTION_SWEEP_MS: number = 60 * 60_000;
}

export class LoadSimulatorEnv extends ServiceEnv {
  override PORT: number = 3003;

  /**
   * Opens destinations' connection URLs, sealed by the registry in Postgres and on
   * REGISTRY (SPEC §12): the load-simulator connects to destinations with them. Required
   * except in development (`npm start` creates one in the git-ignored `.secrets-key`).
   */
  @IsRequiredSecretsKey()
  SECRETS_KEY?: string;

  /** During a key rotation: the previous keys, comma-separated, still accepted for opening (README, "Rotating SECRETS_KEY"). */
  @IsPreviousSecretsKeys()
  SECRETS_KEY_PREVIOUS?: string;

  /** Lets destinations be on loopback and link-local addresses (checked again at each pool's connect): local use only. */
  @EnvBoolean()
  @IsBoolean({ message: 'must be true, false, 1 or 0' })
  ALLOW_PRIVATE_TARGETS: boolean = false;

  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(1, { message: 'must be a positive integer (milliseconds)' })
  LOAD_INTERVAL_MS: number = 5000;

  /** Lets the operator run simulations for any account. Optional: without it, account keys only. */
  @ValidateIf((env: LoadSimulatorEnv) => env.ADMIN_TOKEN !== undefined)
  @IsString({ message: 'must be at least 32 characters' })
  @MinLength(32, { message: 'must be at least 32 characters' })
  @IsProductionAdminToken()
  ADMIN_TOKEN?: string;

  /** How often due schedules are looked for. */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(10, { message: 'must be a positive integer (milliseconds)' })
  SCHEDULE_CHECK_INTERVAL_MS: number = 1000;

  /** The shortest `every` a schedule may have (SPEC §10: 1 minute); tests lower it to run schedules quickly. */
  @IsInt({ message: 'must be an integer of at least 1000 (milliseconds)' })
  @Min(1000, { message: 'must be an integer of at least 1000 (milliseconds)' })
  SCHEDULE_MIN_EVERY_MS: number = 60_000;

  /** Rows of each integration's `_sdc_rejected` older than this many days are removed (SPEC §12). */
  @IsDays()
  RETENTION_DAYS: number = 30;

  /** How often the retention sweep runs. */
  @IsSweepInterval()
  RETENTION_SWEEP_MS: number = 60 * 60_000;
}

export class DispatcherEnv extends ServiceEnv {
  override PORT: number = 3004;

  /**
   * Seals hook signing secrets in Postgres and on REGISTRY (AES-256-GCM, SPEC §12). Only the
   * registry and the dispatcher hold it. Required except in development, where `npm start`
   * creates one once in the git-ignored `.secrets-key`; a service that needs it and has
   * none refuses to start all the same.
   */
  @IsRequiredSecretsKey()
  SECRETS_KEY?: string;

  /** During a key rotation: the previous keys, comma-separated, still accepted for opening (README, "Rotating SECRETS_KEY"). */
  @IsPreviousSecretsKeys()
  SECRETS_KEY_PREVIOUS?: string;

  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(1, { message: 'must be a positive integer (milliseconds)' })
  DELIVERY_TIMEOUT_MS: number = 30_000;

  /** Parse with `parseDurationList`. */
  @IsDurationList({ message: 'must be a comma-separated list of durations such as 250ms, 5s, 5m, 2h' })
  DELIVERY_RETRY_SCHEDULE: string = '5s,5m,30m,2h,5h';

  @EnvBoolean()
  @IsBoolean({ message: 'must be true, false, 1 or 0' })
  ALLOW_PRIVATE_TARGETS: boolean = false;

  /** Deliveries in flight at once, over all endpoints. */
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  DELIVERY_CONCURRENCY: number = 64;

  /** Deliveries in flight at once to one host, so one slow endpoint cannot take them all. */
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  DELIVERY_CONCURRENCY_PER_HOST: number = 8;

  /**
   * The share of DELIVERY_CONCURRENCY one account may hold at once (0 < share <= 1), so
   * that one account's burst leaves room for the others' first attempts.
   */
  @IsNumber({}, { message: 'must be a number above 0 and at most 1' })
  @Min(0.001, { message: 'must be a number above 0 and at most 1' })
  @Max(1, { message: 'must be a number above 0 and at most 1' })
  DELIVERY_ACCOUNT_SHARE: number = 0.5;

  /** How often each replica looks in Postgres for attempts that came due (it is also woken at once by its own new work). */
  @IsInt({ message: 'must be an integer of at least 10 (milliseconds)' })
  @Min(10, { message: 'must be an integer of at least 10 (milliseconds)' })
  DELIVERY_POLL_MS: number = 250;

  /** Final deliveries (and their attempts) older than this many days are removed (SPEC §12). */
  @IsDays()
  RETENTION_DAYS: number = 30;

  /** How often the retention sweep runs. */
  @IsSweepInterval()
  RETENTION_SWEEP_MS: number = 60 * 60_000;
}

export class EmailNotifierEnv extends ServiceEnv {
  override PORT: number = 3005;

  @IsUrlList(['smtp:', 'smtps:'], { list: false }, { message: 'must be an smtp:// or smtps:// URL' })
  @IsSmtpUrlWithTls()
  SMTP_URL: string = 'smtp://127.0.0.1:1025';

  /**
   * Lets the notifier talk to an SMTP server that is not local without TLS (a mail sink
   * on a compose or cluster network). Without it, smtp:// to such a server requires
   * STARTTLS (see decideSmtpTls).
   */
  @EnvBoolean()
  @IsBoolean({ message: 'must be true, false, 1 or 0' })
  SMTP_ALLOW_PLAINTEXT: boolean = false;

  @IsNotEmpty({ message: 'must not be empty' })
  EMAIL_FROM: string = 'posthooks <no-reply@posthooks.local>';

  /** The console's public address (e.g. https://posthooks.example.com/console): emails link to the hook's deliveries there. Unset: no link. */
  @IsOptional()
  @IsUrlList(['http:', 'https:'], { list: false }, { message: 'must be an http(s) URL' })
  CONSOLE_URL?: string;

  /** One send (connect, greeting, commands, data) must finish within this; longer counts as a failed try. */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(100, { message: 'must be a positive integer (milliseconds), at least 100' })
  SMTP_TIMEOUT_MS: number = 30_000;

  /** First wait after the SMTP server was unreachable or answered 4xx; doubled per try up to EMAIL_RETRY_MAX_MS. */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(10, { message: 'must be a positive integer (milliseconds), at least 10' })
  EMAIL_RETRY_BASE_MS: number = 5000;

  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(10, { message: 'must be a positive integer (milliseconds), at least 10' })
  EMAIL_RETRY_MAX_MS: number = 15 * 60_000;

  /** Emails about one hook within a digest window before the rest are folded into one digest (0: digests only). */
  @IsInt({ message: 'must be an integer, 0 or more' })
  @Min(0, { message: 'must be an integer, 0 or more' })
  EMAIL_DIGEST_AFTER: number = 3;

  /** How long a digest window lasts; its digest is sent when it ends. */
  @IsInt({ message: 'must be a positive integer (milliseconds)' })
  @Min(100, { message: 'must be a positive integer (milliseconds), at least 100' })
  EMAIL_DIGEST_WINDOW_MS: number = 60 * 60_000;

  /** Sent, rejected and cancelled emails, and undeliverable records, older than this many days are removed (SPEC §12). */
  @IsDays()
  RETENTION_DAYS: number = 30;

  /** How often the retention sweep runs. */
  @IsSweepInterval()
  RETENTION_SWEEP_MS: number = 60 * 60_000;
}

/** Each app's env class by its SPEC §1 name. */
export const ENV_CLASSES = {
  'ingest-gateway': IngestGatewayEnv,
  'hook-registry': HookRegistryEnv,
  'load-simulator': LoadSimulatorEnv,
  dispatcher: DispatcherEnv,
  'email-notifier': EmailNotifierEnv,
} as const satisfies Record<string, new () => ServiceEnv>;

export type AppName = keyof typeof ENV_CLASSES;
