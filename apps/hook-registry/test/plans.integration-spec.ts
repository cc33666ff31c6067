import { ErrorBodies } from '@posthooks/contracts';
import { TEST_ADMIN_TOKEN, waitFor } from '@posthooks/testing';
import { HOOKS, Registry } from './registry-harness';

/** SPEC §2: plans and the hooks entitlement. */
describe('plans and entitlements', () => {
  let r: Registry;
  beforeAll(async () => (r = await Registry.start('registry_plans', { TRIAL_CHECK_INTERVAL_MS: '100' })));
  afterAll(() => r.stop());

  const setPlan = (id: number, plan: string) => r.call<{ plan: string }>('PUT', `/v1/accounts/${id}/plan`, { token: TEST_ADMIN_TOKEN, json: { plan } });
  const enable = (key: string, id: number, enable: boolean) => r.call<{ disabled_at: string | null }>('PUT', `${HOOKS}/${id}`, { token: key, json: { enable } });

  it('gives a free trial 14 days, and no trial to other plans', async () => {
    const before = Date.now();
    const trial = await r.call<{ trial_ends_at: string }>('POST', '/v1/accounts', { token: TEST_ADMIN_TOKEN, json: { name: 'a', plan: 'free_trial', notification_email: 'a@b.test' } });
    const days = (Date.parse(trial.body.trial_ends_at) - before) / 86_400_000;
    expect(days).toBeGreaterThan(13.99);
    expect(days).toBeLessThan(14.01);
    const paid = await r.call<{ trial_ends_at: string | null }>('POST', '/v1/accounts', { token: TEST_ADMIN_TOKEN, json: { name: 'b', plan: 'premium', notification_email: 'a@b.test' } });
    expect(paid.body.trial_ends_at).toBeNull();
  });

  it('answers the account, without its keys', async () => {
    const a = await r.account('advanced');
    const res = await r.call('GET', `/v1/accounts/${a.id}`, { token: TEST_ADMIN_TOKEN });
    expect(res.body).toEqual({ id: a.id, name: expect.any(String), plan: 'advanced', notification_email: 'data@acme.test', undeliverable_email: true, trial_ends_at: null, created_at: expect.any(String) });
    expect(res.text).not.toContain(a.key);
  });

  it('refuses bad admin bodies with a clear error', async () => {
    const res = await r.call('POST', '/v1/accounts', { token: TEST_ADMIN_TOKEN, json: { name: 'x', plan: 'gold', notification_email: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/plan must be one of.*notification_email must be an email address/) });
    const extra = await r.call('POST', '/v1/accounts', { token: TEST_ADMIN_TOKEN, json: { name: 'x', plan: 'advanced', notification_email: 'a@b.test', admin: true } });
    expect([extra.status, extra.body]).toEqual([400, { error: 'property admin should not exist' }]);
  });

  it.each(['standard'])('refuses hooks to %s accounts', async (plan) => {
    const a = await r.account(plan);
    const res = await r.createHook(a.key, await r.destination(a.key));
    expect([res.status, res.body]).toEqual([400, ErrorBodies.notEntitled]);
  });

  it('downgrade disables every hook at once; upgrade leaves them disabled until each is re-enabled', async () => {
    const a = await r.account('premium');
    const d = await r.destination(a.key);
    const hooks = [await r.hook(a.key, d), await r.hook(a.key, d), await r.hook(a.key, d)];
    await enable(a.key, hooks[2].id, false); // disabled by hand before the downgrade

    expect((await setPlan(a.id, 'standard')).body.plan).toBe('standard');
    const afterDowngrade = await r.hooks(a.key);
    expect(afterDowngrade.map((h) => [h.disabled_at !== null, h.disabled_reason])).toEqual([
      [true, 'plan_downgrade'],
      [true, 'plan_downgrade'],
      [true, 'manual'],
    ]);
    // Both hooks disabled by the downgrade carry the same instant.
    expect(afterDowngrade[0].disabled_at).toBe(afterDowngrade[1].disabled_at);

    // Without the entitlement: no create, no re-enable; list, disable and delete work.
    expect((await r.createHook(a.key, d)).body).toEqual(ErrorBodies.notEntitled);
    expect((await enable(a.key, hooks[0].id, true)).body).toEqual(ErrorBodies.notEntitled);
    expect((await enable(a.key, hooks[0].id, false)).status).toBe(200);
    expect((await r.call('DELETE', `${HOOKS}/${hooks[1].id}`, { token: a.key })).status).toBe(200);

    await setPlan(a.id, 'enterprise');
    expect((await r.hooks(a.key)).every((h) => h.disabled_at !== null)).toBe(true);
    const back = await enable(a.key, hooks[0].id, true);
    expect([back.status, back.body.disabled_at]).toEqual([200, null]);
    expect((await r.hooks(a.key)).map((h) => [h.id, h.disabled_at === null])).toEqual([
      [hooks[0].id, true],
      [hooks[2].id, false],
    ]);
  });

  it('ends a trial without any API call: its hooks are disabled by the sweep', async () => {
    const a = await r.account('free_trial', { trial_ends_at: new Date(Date.now() + 1500).toISOString() });
    const d = await r.destination(a.key);
    await r.hook(a.key, d);
    await r.hook(a.key, d);
    expect((await r.hooks(a.key)).every((h) => h.disabled_at === null)).toBe(true);

    const disabled = await waitFor('the trial sweep', async () => {
      const hooks = await r.hooks(a.key);
      return hooks.every((h) => h.disabled_reason === 'plan_downgrade') && hooks;
    });
    expect(disabled).toHaveLength(2);
    expect((await r.createHook(a.key, d)).body).toEqual(ErrorBodies.notEntitled);
  });

  it('lets an account opt out of undeliverable emails, with its own key or the admin token', async () => {
    const a = await r.account('advanced');
    const own = await r.call('PUT', `/v1/accounts/${a.id}/notifications`, { token: a.key, json: { undeliverable_email: false } });
    expect([own.status, own.body]).toEqual([200, { undeliverable_email: false }]);
    const admin = await r.call('PUT', `/v1/accounts/${a.id}/notifications`, { token: TEST_ADMIN_TOKEN, json: { undeliverable_email: true } });
    expect(admin.body).toEqual({ undeliverable_email: true });
  });

  it('issues labelled keys, shown once, and revokes them at once', async () => {
    const a = await r.account('advanced');
    const issued = await r.call<{ id: number; label: string; api_key: string }>('POST', `/v1/accounts/${a.id}/api-keys`, { token: TEST_ADMIN_TOKEN, json: { label: 'alice' } });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ id: expect.any(Number), label: 'alice', api_key: expect.stringMatching(/^phk_[A-Za-z0-9_-]{43}$/) });
    expect((await r.call('GET', HOOKS, { token: issued.body.api_key })).status).toBe(200);

    const revoked = await r.call('DELETE', `/v1/accounts/${a.id}/api-keys/${issued.body.id}`, { token: TEST_ADMIN_TOKEN });
    expect(revoked.body).toEqual({ id: issued.body.id, label: 'alice', revoked_at: expect.any(String) });
    expect((await r.call('GET', HOOKS, { token: issued.body.api_key })).status).toBe(401);
    expect((await r.call('GET', HOOKS, { token: a.key })).status).toBe(200);
  });

  it('deleting a destination deletes its hooks, and only its hooks', async () => {
    const a = await r.account('advanced');
    const [d1, d2] = [await r.destination(a.key), await r.destination(a.key)];
    await r.hook(a.key, d1);
    const kept = await r.hook(a.key, d2);
    const res = await r.call('DELETE', `/v1/destinations/${d1}`, { token: a.key });
    expect(res.status).toBe(200);
    expect((await r.hooks(a.key)).map((h) => h.id)).toEqual([kept.id]);
    expect((await r.createHook(a.key, d1)).body).toEqual(ErrorBodies.notFound);
  });
});
