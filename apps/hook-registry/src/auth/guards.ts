import { CanActivate, createParamDecorator, ExecutionContext, HttpException, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorBodies } from '@posthooks/contracts';
import { FailedAuthGate } from '@posthooks/runtime';
import type { Request, Response } from 'express';
import { AuthService, Caller } from './auth.service';

type Allowed = 'admin' | 'account' | 'admin-or-account';
const ALLOWED = 'posthooks:allowed-callers';

/** Which callers a route takes: the admin token, an account key, or either. */
export const Allow = (allowed: Allowed) => SetMetadata(ALLOWED, allowed);

type AuthedRequest = Request & { caller?: Caller };

/**
 * Global guard: every route names who may call it; anyone else gets 401 `{"error":"Unauthorized"}`.
 * A token that is neither the admin token nor a live key is a failed authentication: it
 * goes to the FailedAuthGate (401 and counted against the address, or 429 once the
 * address is over the limit). A valid token on a route for the other kind of caller is
 * 401 without counting: the limit never refuses a valid key (SPEC §10).
 */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
    private readonly failedAuth: FailedAuthGate,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const allowed = this.reflector.getAllAndOverride<Allowed | undefined>(ALLOWED, [ctx.getHandler(), ctx.getClass()]);
    if (!allowed) return true; // health and metrics
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const caller = this.auth.identify(req.headers.authorization);
    if (!caller) this.failedAuth.refuse(req, ctx.switchToHttp().getResponse<Response>());
    if (allowed !== 'admin-or-account' && caller.kind !== allowed) throw new HttpException(ErrorBodies.unauthorized, 401);
    req.caller = caller;
    return true;
  }
}

export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthedRequest>().caller as Caller);

/** The calling account key, on routes allowed to `account` only. */
export type AccountCaller = Extract<Caller, { kind: 'account' }>;
export const CurrentAccount = createParamDecorator((_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthedRequest>().caller as AccountCaller);
