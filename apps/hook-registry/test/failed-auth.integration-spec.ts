import { ErrorBodies } from '@posthooks/contracts';
import { TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { DataSource } from 'typeorm';
import { HOOKS, Registry } from './registry-harness';

const WRONG_KEY = 'phk_not-a-key-of-anyone';
const TOO_MANY = { error: 'too many failed authentications' };

/** A request from a given client address (as the Ingress would write it) with a bearer token. */
async function call(r: Registry, token: string, forwardedFor?: string, path = HOOKS): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const res = await fetch(r.url + path, { headers: { authorization: `Bearer ${token}`, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

/** SQL text of every query the registry sends while `during` runs. */
async function queriesDuring(r: Registry, during: () => Promise<void>): Promise<string[]> {
  const queries: string[] = [];
  const subscriber = { beforeQuery: (event: { query: string }) => void queries.push(event.query) };
  const subscribers = r.app.get(DataSource).subscribers;
  subscribers.push(subscriber);
  try {
    await during();
  } finally {
    subscribers.splice(subscribers.indexOf(subscriber), 1);
  }
  return queries;
}

/** SPEC §10: at most 20 failed authentications per client address per minute. */
describe('failed authentications on the registry', () => {
  describe('behind a proxy (TRUST_PROXY=true)', () => {
    let r: Registry;
    let account: { id: number; key: string };

    beforeAll(async () => {
      r = await Registry.start('registry_failed_auth', { TRUST_PROXY: 'true' });
      account = await r.account();
    });
    afterAll(() => r.stop());

    it('answers 20 wrong keys 401 and the 21st 429 with Retry-After, without a database query', async () => {
      const replies: { status: number; body: unknown }[] = [];
      const queries = await queriesDuring(r, async () => {
        for (let i = 0; i < 21; i++) replies.push(await call(r, WRONG_KEY, '203.0.113.1'));
      });
      expect(replies.slice(0, 20).map((reply) => [reply.status, reply.body])).toEqual(Array(20).fill([401, ErrorBodies.unauthorized]));
      const refused = replies[20] as Awaited<ReturnType<typeof call>>;
      expect([refused.status, refused.body]).toEqual([429, TOO_MANY]);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
      // The relay polls the outbox meanwhile; nothing may read the keys.
      expect(queries.filter((query) => /api_keys/i.test(query))).toEqual([]);
    });

    it('still takes a valid key and the admin token from that address', async () => {
      expect((await call(r, WRONG_KEY, '203.0.113.1')).status).toBe(429);
      expect((await call(r, account.key, '203.0.113.1')).status).toBe(200);
      expect((await call(r, TEST_ADMIN_TOKEN, '203.0.113.1', `/v1/accounts/${account.id}`)).status).toBe(200);
      // A valid account key on an admin route is refused, but as 401, not by the limit.
      expect((await call(r, account.key, '203.0.113.1', `/v1/accounts/${account.id}`)).status).toBe(401);
    });

    it('leaves another address unaffected, and takes the last X-Forwarded-For hop (the one the proxy added)', async () => {
      expect((await call(r, WRONG_KEY, '203.0.113.2')).status).toBe(401);
      // A forged first hop does not buy a fresh allowance: the last hop is still the limited one.
      expect((await call(r, WRONG_KEY, '198.51.100.7, 203.0.113.1')).status).toBe(429);
    });

    it('counts refusals in /metrics', async () => {
      const metrics = await (await fetch(`${r.url}/metrics`)).text();
      expect(Number(/posthooks_auth_failures_total\{result="rate_limited"[^}]*\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    });
  });

  describe('reached directly (TRUST_PROXY unset)', () => {
    let r: Registry;
    let account: { id: number; key: string };

    beforeAll(async () => {
      r = await Registry.start('registry_failed_auth_direct');
      account = await r.account();
    });
    afterAll(() => r.stop());

    it('ignores X-Forwarded-For: 127.0.0.1 is limited like any address, whatever the header says', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await call(r, WRONG_KEY, `203.0.113.${i + 10}`)).status);
      expect(statuses).toEqual([...Array(20).fill(401), 429]);
      expect((await call(r, WRONG_KEY)).status).toBe(429);
      expect((await call(r, account.key)).status).toBe(200);
    });
  });

  describe('API keys without a database query, on every replica', () => {
    let first: Registry;
    let second: Registry;

    beforeAll(async () => {
      // Two replicas of one registry: same database, same NATS namespace.
      first = await Registry.start('registry_key_replicas');
      second = await Registry.start('registry_key_replicas');
    });
    afterAll(async () => {
      await second?.stop();
      await first?.stop();
    });

    it('a key issued on one replica works there at once and on the other through the stream; a revocation too', async () => {
      const account = await first.account();
      expect((await call(first, account.key)).status).toBe(200);
      await waitFor('the second replica to know the new key', async () => (await call(second, account.key)).status === 200);

      const issued = await first.call<{ id: number; api_key: string }>('POST', `/v1/accounts/${account.id}/api-keys`, { token: TEST_ADMIN_TOKEN, json: { label: 'alice' } });
      expect(issued.status).toBe(201);
      expect((await call(first, issued.body.api_key)).status).toBe(200);
      const revoked = await first.call('DELETE', `/v1/accounts/${account.id}/api-keys/${issued.body.id}`, { token: TEST_ADMIN_TOKEN });
      expect(revoked.status).toBe(200);
      expect((await call(first, issued.body.api_key)).status).toBe(401);
      await waitFor('the second replica to refuse the revoked key', async () => (await call(second, issued.body.api_key)).status === 401);
      expect((await call(second, account.key)).status).toBe(200);
    });
  });
});
