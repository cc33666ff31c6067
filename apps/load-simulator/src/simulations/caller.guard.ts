import { CanActivate, createParamDecorator, ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { ErrorBodies } from '@posthooks/contracts';
import { RegistryView } from '@posthooks/registry-view';
import { notFound } from '@posthooks/runtime';
import { hashApiKey, safeEqual } from '@posthooks/webhooks';
import type { Request } from 'express';

/** Who called: the operator (ADMIN_TOKEN) or one account's API key. */
export type Caller = { kind: 'admin' } | { kind: 'account'; accountId: number };

type CallerRequest = Request & { simulationCaller?: Caller };

/**
 * AccountKeyGuard plus the admin token: the registry-view guard only knows account
 * keys. Keys are resolved from the registry's events, without calling the registry.
 */
@Injectable()
export class AdminOrAccountGuard implements CanActivate {
  constructor(
    private readonly view: RegistryView,
    @Inject(LoadSimulatorEnv) private readonly env: LoadSimulatorEnv,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<CallerRequest>();
    req.simulationCaller = this.identify(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]);
    return true;
  }

  private identify(token: string | undefined): Caller {
    if (token !== undefined) {
      // Without ADMIN_TOKEN there is no admin at all, never an empty-string match.
      if (this.env.ADMIN_TOKEN && safeEqual(token, this.env.ADMIN_TOKEN)) return { kind: 'admin' };
      const accountId = this.view.accountOfKey(hashApiKey(token));
      if (accountId !== undefined) return { kind: 'account', accountId };
    }
    throw new HttpException(ErrorBodies.unauthorized, 401);
  }
}

export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<CallerRequest>().simulationCaller as Caller);

/**
 * A key may only act for its own account. SPEC §7 does not name the status; a key
 * naming another account gets 404 `{"error":"NotFound"}`, as for another account's
 * objects everywhere in the contract (a 403 would confirm that the account exists).
 */
export function assertMayActFor(caller: Caller, clientId: number): void {
  if (caller.kind === 'account' && caller.accountId !== clientId) throw notFound();
}
