import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a handler's error to JetStreamTransport as it was thrown. Nest's default RPC
 * filter replaces any error but an RpcException with "Internal server error" (and logs
 * it): the transport could then not tell Postgres being down (retry, never dead-letter)
 * from a bug (dead-letter after the horizon). An RpcException passes as the object it
 * carries, as with Nest's filter. Handlers steer their message through their context
 * (`ctx.retryIn`, `ctx.deadLetter`), not by throwing: what reaches this filter is a failure.
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
