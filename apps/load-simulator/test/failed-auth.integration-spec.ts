import { ErrorBodies } from '@posthooks/contracts';
import { TEST_ADMIN_TOKEN } from '@posthooks/testing';
import { SimulatorHarness } from './simulator-harness';

const WRONG_KEY = 'phk_not-a-key-of-anyone';

async function listSchedules(h: SimulatorHarness, token: string, forwardedFor: string): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const res = await fetch(`${h.url}/v1/schedules`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': forwardedFor } });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

/** SPEC §10 on the load-simulator's guard (the admin token or an account key). */
describe('failed authentications on the load-simulator', () => {
  let h: SimulatorHarness;
  beforeAll(async () => (h = await SimulatorHarness.start('simulator_failed_auth', { TRUST_PROXY: 'true' })));
  afterAll(() => h.stop());

  it('answers 20 wrong tokens 401 and the 21st 429 with Retry-After; the admin token, a valid key and another address still pass', async () => {
    const account = await h.account();
    const replies = [];
    for (let i = 0; i < 21; i++) replies.push(await listSchedules(h, i % 2 ? WRONG_KEY : `${TEST_ADMIN_TOKEN}x`, '203.0.113.1'));
    expect(replies.slice(0, 20).map((reply) => [reply.status, reply.body])).toEqual(Array(20).fill([401, ErrorBodies.unauthorized]));
    expect([replies[20].status, replies[20].body]).toEqual([429, { error: 'too many failed authentications' }]);
    expect(Number(replies[20].retryAfter)).toBeGreaterThanOrEqual(1);

    expect((await listSchedules(h, TEST_ADMIN_TOKEN, '203.0.113.1')).status).toBe(200);
    expect((await listSchedules(h, account.key, '203.0.113.1')).status).toBe(200);
    expect((await listSchedules(h, WRONG_KEY, '203.0.113.2')).status).toBe(401);
  });
});
