import { ErrorBodies } from '@posthooks/contracts';
import { HOOKS, Registry } from './registry-harness';

/** Account A's key never reads, changes or learns of account B's objects: 404, never 403. */
describe('account isolation', () => {
  let r: Registry;
  let a: { id: number; key: string };
  let b: { id: number; key: string };
  let bDestination: number;
  let bHook: { id: number; secret: string };

  beforeAll(async () => {
    r = await Registry.start('registry_isolation');
    a = await r.account();
    b = await r.account();
    await r.hook(a.key, await r.destination(a.key));
    bDestination = await r.destination(b.key);
    bHook = await r.hook(b.key, bDestination);
  });
  afterAll(() => r.stop());

  const bHookState = async () => (await r.hooks(b.key)).find((h) => h.id === bHook.id);

  it.each([
    ['PUT', () => `${HOOKS}/${bHook.id}`, { enable: false }],
    ['DELETE', () => `${HOOKS}/${bHook.id}`, undefined],
    ['POST', () => `/v1/hooks/${bHook.id}/rotate-secret`, undefined],
    ['DELETE', () => `/v1/destinations/${bDestination}`, undefined],
    ['PUT', () => `/v1/accounts/${b.id}/notifications`, { undeliverable_email: false }],
  ])('%s %s with A\'s key is 404 and changes nothing', async (method, path, json) => {
    const before = await bHookState();
    const res = await r.call(method, path(), { token: a.key, json });
    expect([res.status, res.body]).toEqual([404, ErrorBodies.notFound]);
    expect(await bHookState()).toEqual(before);
  });

  it('A cannot hang a hook on B\'s destination', async () => {
    const res = await r.createHook(a.key, bDestination);
    expect([res.status, res.body]).toEqual([404, ErrorBodies.notFound]);
    expect((await r.hooks(b.key)).map((h) => h.id)).toEqual([bHook.id]);
  });

  it('A\'s lists hold only A\'s objects', async () => {
    const hooks = await r.call('GET', HOOKS, { token: a.key });
    expect((hooks.body as { post_load: { client_id: number }[] }).post_load.every((h) => h.client_id === a.id)).toBe(true);
    expect(hooks.text).not.toContain(`"id":${bHook.id},`);
    const destinations = await r.call<{ id: number }[]>('GET', '/v1/destinations', { token: a.key });
    expect(destinations.body.map((d) => d.id)).not.toContain(bDestination);
  });

  it('A learns nothing from the difference between B\'s hook and no hook', async () => {
    const theirs = await r.call('PUT', `${HOOKS}/${bHook.id}`, { token: a.key, json: { enable: true } });
    const nobody = await r.call('PUT', `${HOOKS}/987654`, { token: a.key, json: { enable: true } });
    expect([theirs.status, theirs.text]).toEqual([nobody.status, nobody.text]);
  });

  it('an account key cannot use the admin API, even for its own account', async () => {
    for (const [method, path] of [['GET', `/v1/accounts/${a.id}`], ['PUT', `/v1/accounts/${a.id}/plan`], ['POST', `/v1/accounts/${a.id}/api-keys`]]) {
      const res = await r.call(method, path, { token: a.key, json: method === 'GET' ? undefined : { plan: 'enterprise', label: 'x' } });
      expect([res.status, res.body]).toEqual([401, ErrorBodies.unauthorized]);
    }
  });
});
