import { Counter } from 'prom-client';

export const unhandledRejections = new Counter({
  name: 'posthooks_unhandled_rejections_total',
  help: 'Promises that rejected with nobody waiting for them (each is logged); tests assert there are none',
});

interface FatalLogger {
  error(message: string, context?: string): void;
  fatal(message: string, context?: string): void;
}

let installed = false;

/**
 * What a service does with failures that escaped every handler, once per process.
 *
 * - An unhandled rejection is a promise nobody awaited: the work it belonged to has
 *   already settled without it (the transport settles every message itself). Dying on
 *   it, Node's default, would take every other message and request with it, so it is
 *   logged with its stack and counted in `posthooks_unhandled_rejections_total`, and the
 *   service goes on. A test fails if the count is not 0.
 * - An uncaught exception is a synchronous throw out of a callback that stopped halfway:
 *   a slot not released, a lock not freed, a counter not decremented. Nothing says the
 *   process is still sound, so it is logged (fatal) and the process exits with code 1;
 *   the orchestrator restarts it and JetStream redelivers what it had not acked.
 */
export function handleProcessFailures(logger: FatalLogger): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    unhandledRejections.inc();
    logger.error(`unhandled promise rejection (the service goes on): ${describe(reason)}`, 'Process');
  });
  process.on('uncaughtException', (error) => {
    logger.fatal(`uncaught exception, exiting: ${describe(error)}`, 'Process');
    process.exit(1);
  });
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.stack ?? `${reason.name}: ${reason.message}`;
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}
