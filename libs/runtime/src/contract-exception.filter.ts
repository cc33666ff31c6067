import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import { ErrorBodies, simpleError } from '@posthooks/contracts';
import type { Response } from 'express';

/**
 * Every HTTP error leaves in the contract's shape. An exception carrying an object body
 * (one of ErrorBodies, or terminus's health report) is sent as it is; any other becomes
 * `{"error":"<what is wrong>"}`. Unexpected errors are logged and answered 500 without
 * their details.
 */
@Catch()
export class ContractExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const status = exception.getStatus();
      if (isOwnBody(body)) {
        res.status(status).json(body);
      } else if (exception instanceof NotFoundException) {
        res.status(status).json(ErrorBodies.notFound);
      } else {
        res.status(status).json(simpleError(exception.message));
      }
      return;
    }
    this.log.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    res.status(HttpStatus.INTERNAL_SERVER_ERROR).json(simpleError('Internal server error'));
  }
}

/** Nest's own bodies carry statusCode; ours and terminus's never do. */
function isOwnBody(body: unknown): body is object {
  return typeof body === 'object' && body !== null && !('statusCode' in body);
}
