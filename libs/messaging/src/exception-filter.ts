import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to JetStreamTransport as it was thrown. Nest's default RPC
 * filter replaces any error but an RpcException with "Internal server error" (and logs
 * it): the transport could then not tell Postgres being down (retry, never dead-letter)
 * from a bug (dead-letter after the horizon). RetryLater and DeadLetter (RpcExceptions)
 * pass as the verdict objects they carry, as with Nest's filter.
 */
@Catch()
export class JetStreamExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof RpcException) {
      const error = exception.getError();
      return throwError(() => (typeof error === 'object' && error !== null ? error : { status: 'error', message: error }));
    }
    return throwError(() => exception);
  }
}
