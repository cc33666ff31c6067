import { DynamicModule, HttpException, Inject, Injectable, Module } from '@nestjs/common';
import { ErrorBodies, simpleError } from '@posthooks/contracts';
import { Counter } from 'prom-client';
import { AddressedRequest, clientAddress } from './client-address';
import { FAILED_AUTH_LIMITS, FailedAuthLimiter, FailedAuthLimits } from './failed-auth-limiter';

const failedAuthentications = new Counter({
  name: 'posthooks_auth_failures_total',
  help: 'Requests refused for their credentials: result="unauthorized" (401, counted against the address) or "rate_limited" (429, the address is over the limit)',
  labelNames: ['result'],
});

export const TOO_MANY_FAILED_AUTHENTICATIONS = 'too many failed authentications';

export interface FailedAuthOptions {
  /** TRUST_PROXY: take the client address from X-Forwarded-For (see clientAddress). */
  trustProxy: boolean;
  limits?: FailedAuthLimits;
}
const FAILED_AUTH_OPTIONS = 'posthooks:failed-auth-options';

type ResponseHeaders = { setHeader(name: string, value: string): unknown };

/**
 * What every guard does when credentials fail (SPEC §10). Guards check the credentials
 * first, in memory and without a database query, and call `refuse` only when they fail:
 * a valid key is therefore never refused by the limit, even from an address that is
 * over it. The failure is answered 401 and counted against the address; once the
 * address has failed `limit` times within the window, the answer is 429 with
 * Retry-After (and not counted, so retrying does not extend the wait).
 */
@Injectable()
export class FailedAuthGate {
  private readonly limiter: FailedAuthLimiter;

  constructor(@Inject(FAILED_AUTH_OPTIONS) private readonly options: FailedAuthOptions) {
    this.limiter = new FailedAuthLimiter(options.limits ?? FAILED_AUTH_LIMITS);
  }

  refuse(req: AddressedRequest, res: ResponseHeaders): never {
    const address = clientAddress(req, this.options.trustProxy);
    const now = Date.now();
    const retryAfter = this.limiter.retryAfterSeconds(address, now);
    if (retryAfter > 0) {
      failedAuthentications.inc({ result: 'rate_limited' });
      res.setHeader('Retry-After', String(retryAfter));
      throw new HttpException(simpleError(TOO_MANY_FAILED_AUTHENTICATIONS), 429);
    }
    this.limiter.recordFailure(address, now);
    failedAuthentications.inc({ result: 'unauthorized' });
    throw new HttpException(ErrorBodies.unauthorized, 401);
  }
}

/** Provides one FailedAuthGate per app to every module's guards (imported by coreModules). */
@Module({})
export class FailedAuthModule {
  static forRoot(options: FailedAuthOptions): DynamicModule {
    return {
      module: FailedAuthModule,
      global: true,
      providers: [{ provide: FAILED_AUTH_OPTIONS, useValue: options }, FailedAuthGate],
      exports: [FailedAuthGate],
    };
  }
}
