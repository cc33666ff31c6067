import type { NestExpressApplication } from '@nestjs/platform-express';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestMicroservice } from '@nestjs/microservices';
import { ConfigError, listenHost, loadEnv, ServiceEnv } from '@posthooks/config';
import { ConsumerOptions, JETSTREAM_WAIT_MS, JetStreamExceptionFilter, JetStreamTransport, NATS_CONNECTION, NatsNaming } from '@posthooks/messaging';
import { JsonLogger } from '@posthooks/observability';
import { ContractExceptionFilter } from './contract-exception.filter';
import { jsonBody, MalformedJsonBody } from './json-body';
import { projectVersion, serveOpenApi } from './openapi';
import { handleProcessFailures } from './process-failures';
import { listenWhileStarting } from './starting-server';
import { contractValidationPipe } from './validation';

export interface ServiceDefinition<E extends ServiceEnv> {
  /** The service's name as in SPEC §1, e.g. `dispatcher`. */
  name: string;
  env: new () => E;
  module: (env: E) => DynamicModule;
  /** The JetStream consumers whose `@EventPattern` handlers this service runs. */
  consumers?: (env: E) => ConsumerOptions[];
  /** The error body for an unparsable JSON request, when not `{"error":"..."}`. */
  malformedJsonBody?: MalformedJsonBody;
  /** Largest JSON body the API takes (default 1 MB). */
  jsonLimit?: string;
  /** Paths whose handlers read the raw body themselves (no JSON parsing before them). */
  rawBodyPaths?: RegExp;
  /** A service with an HTTP API describes it at `GET /docs` (SPEC §1). */
  openApi?: { title: string; description: string };
}

/**
 * Builds a service's app the same way for all five, and for tests that run one
 * in-process: JSON logger, contract errors and validation, `/docs` when the service has
 * an API, JetStream consumers started. The caller listens.
 */
export async function createServiceApp<E extends ServiceEnv>(def: ServiceDefinition<E>, env: E): Promise<INestApplication> {
  const logger = new JsonLogger(def.name, env.LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(def.module(env), { logger, abortOnError: false, bodyParser: false });
  // API answers are not cached by clients: no ETag (Express hashes every body it sends
  // for one), and no X-Powered-By.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(...jsonBody(def.jsonLimit ?? '1mb', def.malformedJsonBody, def.rawBodyPaths));
  app.useGlobalFilters(new ContractExceptionFilter());
  app.useGlobalPipes(contractValidationPipe());
  if (def.openApi) serveOpenApi(app, { ...def.openApi, version: projectVersion() });
  // Every module is initialized (views caught up, migrations run) before a consumer
  // takes its first message.
  await app.init();
  const consumers = def.consumers?.(env) ?? [];
  if (consumers.length > 0) {
    const strategy = new JetStreamTransport({
      connection: app.get(NATS_CONNECTION),
      naming: app.get(NatsNaming),
      // One retry policy for every consumer of every service, from the environment.
      consumers: consumers.map((c) => ({ ...c, deadLetterAfterMs: env.DEADLETTER_AFTER_MS, retryBaseMs: env.MESSAGE_RETRY_BASE_MS, retryMaxMs: env.MESSAGE_RETRY_MAX_MS })),
      drainTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    });
    // Not the HTTP filter and pipes: the transport validates, and handler errors reach it
    // as thrown (an outage is retried, a bug dead-lettered after DEADLETTER_AFTER_MS).
    // Nest binds a handler's filters when it registers the listeners, which
    // connectMicroservice does at once: so registration is deferred until the filter is
    // in, then done as connectMicroservice would (the app's init hooks have already run).
    const microservice = app.connectMicroservice<object>({ strategy }, { inheritAppConfig: false, deferInitialization: true }) as NestMicroservice;
    microservice.useGlobalFilters(new JetStreamExceptionFilter());
    microservice.registerListeners();
    microservice.setIsInitialized(true);
    microservice.setIsInitHookCalled(true);
    await app.startAllMicroservices();
  }
  return app;
}

/**
 * A service's main: validated config first (a bad variable stops the start, named),
 * then the app on its port (answering 503 on /health/ready until the app is up). Any
 * failure to start (NATS or Postgres unreachable) is logged with the URL and ends the
 * process with code 1.
 */
export async function runService<E extends ServiceEnv>(def: ServiceDefinition<E>): Promise<INestApplication> {
  let env: E;
  try {
    env = loadEnv(def.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${def.name}: ${err.message}\n`);
    process.exit(1);
  }

  const logger = new JsonLogger(def.name, env.LOG_LEVEL);
  handleProcessFailures(logger);
  try {
    const host = listenHost(env);
    // While the app starts (it may wait minutes for a JetStream cluster), the port answers
    // live 200 and ready 503.
    const stopStarting = await listenWhileStarting(env.PORT, host);
    // A start stuck past the JetStream wait (seen: a view's consumer placed on a NATS node
    // that was down) ends the process, so that Kubernetes or compose starts it anew: the
    // port answering live would otherwise keep a pod that never gets ready.
    const stuck = setTimeout(() => {
      logger.fatal(`${def.name} cannot start: not started after ${Math.round(START_LIMIT_MS / 1000)} s`, 'Bootstrap');
      process.exit(1);
    }, START_LIMIT_MS);
    stuck.unref();
    const app = await createServiceApp(def, env);
    clearTimeout(stuck);
    app.enableShutdownHooks();
    exitIfShutdownHangs(env.SHUTDOWN_TIMEOUT_MS + 5000);
    await stopStarting();
    if (host === undefined) await app.listen(env.PORT);
    else await app.listen(env.PORT, host);
    logger.log(`${def.name} listening on ${host ?? 'all interfaces'}, port ${env.PORT}`, 'Bootstrap');
    return app;
  } catch (err) {
    logger.fatal(`${def.name} cannot start: ${(err as Error).message}`, 'Bootstrap');
    process.exit(1);
  }
}

/** How long a start may take in all: the JetStream wait (SPEC §1), then a minute for the rest. */
const START_LIMIT_MS = JETSTREAM_WAIT_MS + 60_000;

/** Nest closes the app on SIGTERM/SIGINT; if that hangs, leave anyway. */
function exitIfShutdownHangs(ms: number): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => setTimeout(() => process.exit(1), ms).unref());
  }
}
