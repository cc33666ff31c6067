import { Registry } from './registry-harness';

describe('registry smoke', () => {
  let r: Registry;
  beforeAll(async () => (r = await Registry.start('registry_smoke')));
  afterAll(() => r.stop());

  it('creates an account, a destination and a hook', async () => {
    const a = await r.account();
    const d = await r.destination(a.key);
    const h = await r.hook(a.key, d);
    expect(h.secret).toMatch(/^whsec_/);
    expect(await r.hooks(a.key)).toHaveLength(1);
    await r.published();
  });
});
