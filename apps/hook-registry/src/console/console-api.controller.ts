import { All, Controller, Get, HttpException, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HookRegistryEnv } from '@posthooks/config';
import { isEntitled } from '@posthooks/contracts';
import { FailedAuthGate, notFound } from '@posthooks/runtime';
import type { Request, Response } from 'express';
import { AccountsService } from '../accounts/accounts.service';
import { AuthService } from '../auth/auth.service';
import { Allow } from '../auth/guards';
import { ProxiedService, proxyTarget } from './proxy-target';
import { proxyRequest } from './upstream-proxy';

/** What the console learns when it signs in: who the key belongs to, and whether the plan has hooks. */
export type ConsoleSession =
  | { signed_in: false; reason: string }
  | { signed_in: true; key_label: string; account: { id: number; name: string; plan: string; trial_ends_at: string | null; entitled: boolean } };

/**
 * The console's own API (SPEC §11): its sign-in check, and the same-origin proxy to the
 * other services (see proxy-target.ts for why a proxy and not CORS).
 */
@ApiExcludeController()
@Controller('console/api')
export class ConsoleApiController {
  constructor(
    private readonly auth: AuthService,
    private readonly accounts: AccountsService,
    private readonly failedAuth: FailedAuthGate,
    @Inject(HookRegistryEnv) private readonly env: HookRegistryEnv,
  ) {}

  /**
   * Sign-in: is this key a live account key? A wrong key is answered 200
   * `{"signed_in":false}` rather than 401, because the browser logs every 4xx of the page's
   * own requests as an error; it still counts as a failed authentication (SPEC §10), and
   * past the limit the answer is the limit's 429.
   */
  @Get('session')
  async session(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ConsoleSession> {
    res.setHeader('Cache-Control', 'no-store');
    const caller = this.auth.identify(req.headers.authorization);
    if (!caller) {
      try {
        this.failedAuth.refuse(req, res);
      } catch (err) {
        if (err instanceof HttpException && err.getStatus() === 401) return { signed_in: false, reason: 'This API key is not valid.' };
        throw err;
      }
    }
    if (caller?.kind !== 'account') return { signed_in: false, reason: 'The console signs in with an account API key, not the admin token.' };
    const account = await this.accounts.get(caller.accountId);
    return {
      signed_in: true,
      key_label: caller.label,
      account: { id: account.id, name: account.name, plan: account.plan, trial_ends_at: account.trial_ends_at, entitled: isEntitled(account.plan, account.trial_ends_at) },
    };
  }

  /** Only account keys pass (the guard, in memory); the upstream checks the key again. */
  @All(':service/*path')
  @Allow('account')
  proxy(@Req() req: Request, @Res() res: Response): void {
    const target = proxyTarget(req.originalUrl);
    if (!target) throw notFound();
    const bases: Record<ProxiedService, string> = {
      dispatcher: this.env.DISPATCHER_URL,
      'ingest-gateway': this.env.INGEST_GATEWAY_URL,
      'load-simulator': this.env.LOAD_SIMULATOR_URL,
    };
    proxyRequest(req, res, { base: bases[target.service], pathAndQuery: target.pathAndQuery, timeoutMs: this.env.CONSOLE_PROXY_TIMEOUT_MS, trustProxy: this.env.TRUST_PROXY, service: target.service });
  }
}
