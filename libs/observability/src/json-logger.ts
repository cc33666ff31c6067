import { ConsoleLogger, LogLevel } from '@nestjs/common';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * One JSON object per line, with the service's name on every line, so logs of five
 * services interleaved by `npm start` or shipped from Kubernetes stay attributable.
 */
export class JsonLogger extends ConsoleLogger {
  constructor(
    private readonly service: string,
    level: LogLevel = 'log',
  ) {
    super({ json: true, colors: false, logLevels: LEVELS.slice(0, LEVELS.indexOf(level) + 1) });
  }

  protected override getJsonLogObject(message: unknown, options: { context: string; logLevel: LogLevel; errorStack?: unknown }) {
    return { ...super.getJsonLogObject(message, options), service: this.service };
  }
}
