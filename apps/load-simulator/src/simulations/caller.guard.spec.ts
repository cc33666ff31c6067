import { ExecutionContext, HttpException } from '@nestjs/common';
import { LoadSimulatorEnv } from '@posthooks/config';
import { Subjects } from '@posthooks/contracts';
import { RegistryView } from '@posthooks/registry-view';
import { FailedAuthGate } from '@posthooks/runtime';
import { hashApiKey } from '@posthooks/webhooks';
import { AdminOrAccountGuard } from './caller.guard';

const ADMIN = 'admin-token-0123456789abcdef-0123456789';

function callerOf(guard: AdminOrAccountGuard, authorization?: string): unknown {
  const req: { headers: { authorization?: string }; socket: { remoteAddress: string }; simulationCaller?: unknown } = { headers: { authorization }, socket: { remoteAddress: '127.0.0.1' } };
  const res = { setHeader: () => res };
  const ctx = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }) } as unknown as ExecutionContext;
  try {
    guard.canActivate(ctx);
    return req.simulationCaller;
  } catch (err) {
    return (err as HttpException).getStatus();
  }
}

describe('AdminOrAccountGuard', () => {
  const view = new RegistryView();
  view.apply(Subjects.ApiKeyChanged, { key_id: 1, account_id: 7, label: 'k', key_hash: hashApiKey('live'), revoked_at: null, changed_by: 't', changed_at: '2026-01-01T00:00:00Z' });
  view.apply(Subjects.ApiKeyChanged, { key_id: 2, account_id: 7, label: 'k', key_hash: hashApiKey('revoked'), revoked_at: '2026-01-01T00:00:00Z', changed_by: 't', changed_at: '2026-01-01T00:00:00Z' });
  const env = (adminToken?: string) => Object.assign(new LoadSimulatorEnv(), { ADMIN_TOKEN: adminToken });

  it('knows the admin token and live account keys, and nothing else', () => {
    const guard = new AdminOrAccountGuard(view, env(ADMIN), new FailedAuthGate({ trustProxy: false }));
    expect(callerOf(guard, `Bearer ${ADMIN}`)).toEqual({ kind: 'admin' });
    expect(callerOf(guard, 'Bearer live')).toEqual({ kind: 'account', accountId: 7 });
    for (const header of [undefined, '', 'Bearer', 'Bearer revoked', 'Bearer unknown', ADMIN, `Basic ${ADMIN}`]) expect(callerOf(guard, header)).toBe(401);
  });

  it('has no admin at all without ADMIN_TOKEN', () => {
    const guard = new AdminOrAccountGuard(view, env(undefined), new FailedAuthGate({ trustProxy: false }));
    expect(callerOf(guard, 'Bearer ')).toBe(401);
    expect(callerOf(guard, `Bearer ${ADMIN}`)).toBe(401);
    expect(callerOf(guard, 'Bearer live')).toEqual({ kind: 'account', accountId: 7 });
  });

  it('refuses failures over the limit with 429, never the admin token or a live key', () => {
    const guard = new AdminOrAccountGuard(view, env(ADMIN), new FailedAuthGate({ trustProxy: false, limits: { limit: 2, windowMs: 60_000, maxAddresses: 10 } }));
    expect([callerOf(guard, 'Bearer unknown'), callerOf(guard, 'Bearer unknown'), callerOf(guard, 'Bearer unknown')]).toEqual([401, 401, 429]);
    expect(callerOf(guard, `Bearer ${ADMIN}`)).toEqual({ kind: 'admin' });
    expect(callerOf(guard, 'Bearer live')).toEqual({ kind: 'account', accountId: 7 });
    expect(callerOf(guard, 'Bearer revoked')).toBe(429);
  });
});
