import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { RegistryView } from '@posthooks/registry-view';
import { FailedAuthGate, notFound } from '@posthooks/runtime';
import { hashApiKey, safeEqual } from '@posthooks/webhooks';
import type { Request, Response } from 'express';

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
    private readonly failedAuth: FailedAuthGate,
  ) {}

  /** Both checks are in memory; only a failure reaches the FailedAuthGate (401, or 429 over the limit). */
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<CallerRequest>();
    const caller = this.identify(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]);
    if (!caller) this.failedAuth.refuse(req, ctx.switchToHttp().getResponse<Response>());
    req.simulationCaller = caller;
    return true;
  }

  private identify(token: string | undefined): Caller | undefined {
    if (token === undefined) return undefined;
    // Without ADMIN_TOKEN there is no admin at all, never an empty-string match.
    if (this.env.ADMIN_TOKEN && safeEqual(token, this.env.ADMIN_TOKEN)) return { kind: 'admin' };
    const accountId = this.view.accountOfKey(hashApiKey(token));
    return accountId === undefined ? undefined : { kind: 'account', accountId };
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
