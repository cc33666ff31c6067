import { ErrorBodies } from '@posthooks/contracts';
import { Gateway } from './gateway-harness';

const WRONG_KEY = 'phk_not-a-key-of-anyone';

async function listIntegrations(g: Gateway, token: string, forwardedFor?: string): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const res = await fetch(`${g.url}/v1/integrations`, { headers: { authorization: `Bearer ${token}`, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

/** SPEC §10 on the account-key guard shared by the gateway and the dispatcher (libs/registry-view). */
describe('failed authentications on the gateway', () => {
  describe('behind a proxy (TRUST_PROXY=true)', () => {
    let g: Gateway;
    beforeAll(async () => (g = await Gateway.start('gateway_failed_auth', { TRUST_PROXY: 'true' })));
    afterAll(() => g.stop());

    it('answers 20 wrong keys 401 and the 21st 429 with Retry-After; a valid key and another address still pass', async () => {
      const account = await g.account();
      const replies = [];
      for (let i = 0; i < 21; i++) replies.push(await listIntegrations(g, WRONG_KEY, '203.0.113.1'));
      expect(replies.slice(0, 20).map((reply) => [reply.status, reply.body])).toEqual(Array(20).fill([401, ErrorBodies.unauthorized]));
      expect([replies[20].status, replies[20].body]).toEqual([429, { error: 'too many failed authentications' }]);
      expect(Number(replies[20].retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(replies[20].retryAfter)).toBeLessThanOrEqual(60);

      expect((await listIntegrations(g, account.key, '203.0.113.1')).status).toBe(200);
      expect((await listIntegrations(g, WRONG_KEY, '203.0.113.2')).status).toBe(401);
    });
  });

  describe('reached directly (TRUST_PROXY unset)', () => {
    let g: Gateway;
    beforeAll(async () => (g = await Gateway.start('gateway_failed_auth_direct')));
    afterAll(() => g.stop());

    it('limits the socket address and ignores X-Forwarded-For', async () => {
      const account = await g.account();
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await listIntegrations(g, WRONG_KEY, `203.0.113.${i + 10}`)).status);
      expect(statuses).toEqual([...Array(20).fill(401), 429]);
      expect((await listIntegrations(g, account.key)).status).toBe(200);
    });
  });
});
