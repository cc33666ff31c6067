import { ErrorBodies } from '@posthooks/contracts';
import { Client } from 'pg';
import { Registry } from './registry-harness';

/** The cap of 10 hooks per account holds under concurrency (SPEC §3). */
describe('the limit of 10 hooks', () => {
  let r: Registry;
  beforeAll(async () => (r = await Registry.start('registry_limits')));
  afterAll(() => r.stop());

  it('refuses the 11th hook', async () => {
    const a = await r.account();
    const d = await r.destination(a.key);
    for (let i = 0; i < 10; i++) await r.hook(a.key, d, `https://hooks.acme.test/${i}`);
    const res = await r.createHook(a.key, d);
    expect([res.status, res.body]).toEqual([400, ErrorBodies.hookLimit]);
  });

  it('ten parallel creates on an account with five hooks leave exactly ten', async () => {
    const a = await r.account();
    const d = await r.destination(a.key);
    for (let i = 0; i < 5; i++) await r.hook(a.key, d);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => r.createHook(a.key, d, `https://hooks.acme.test/p${i}`)));
    expect(results.filter((x) => x.status === 200)).toHaveLength(5);
    expect(results.filter((x) => x.status === 400).map((x) => x.body)).toEqual(Array(5).fill(ErrorBodies.hookLimit));
    expect(await r.hooks(a.key)).toHaveLength(10);
  });

  it('a freed slot can be taken again', async () => {
    const a = await r.account();
    const d = await r.destination(a.key);
    const hooks = [];
    for (let i = 0; i < 10; i++) hooks.push(await r.hook(a.key, d));
    await r.call('DELETE', `/notifications/public/v1/api/hooks/${hooks[3].id}`, { token: a.key });
    expect((await r.createHook(a.key, d)).status).toBe(200);
    expect((await r.createHook(a.key, d)).status).toBe(400);
  });

  it('is enforced by the database itself, not only by the API', async () => {
    const a = await r.account();
    const d = await r.destination(a.key);
    const pg = new Client({ connectionString: r.env.DATABASE_URL });
    await pg.connect();
    try {
      const insert = (slot: number) => pg.query('INSERT INTO hook_registry.hooks (account_id, destination_id, slot, url) VALUES ($1, $2, $3, $4)', [a.id, d, slot, 'https://x.test/']);
      await insert(1);
      await expect(insert(1)).rejects.toThrow(/hooks_account_slot/);
      await expect(insert(11)).rejects.toThrow(/check constraint/);
    } finally {
      await pg.end();
    }
  });
});

/** At most 10 destinations per account (SPEC §10), also under concurrent creates. */
describe('the limit of 10 destinations', () => {
  let r: Registry;
  beforeAll(async () => (r = await Registry.start('registry_destination_limits')));
  afterAll(() => r.stop());

  const create = (key: string, name = 'warehouse') => r.call('POST', '/v1/destinations', { token: key, json: { name, type: 'postgres' } });
  const tooMany = { error: 'an account has at most 10 destinations' };

  it('refuses the 11th destination with 400 and says which limit', async () => {
    const a = await r.account();
    for (let i = 0; i < 10; i++) await r.destination(a.key);
    expect(await create(a.key)).toMatchObject({ status: 400, body: tooMany });
    // Another account is not affected.
    const b = await r.account();
    expect((await create(b.key)).status).toBe(201);
  });

  it('ten parallel creates on an account with five destinations leave exactly ten', async () => {
    const a = await r.account();
    for (let i = 0; i < 5; i++) await r.destination(a.key);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => create(a.key, `w${i}`)));
    expect(results.filter((x) => x.status === 201)).toHaveLength(5);
    expect(results.filter((x) => x.status === 400).map((x) => x.body)).toEqual(Array(5).fill(tooMany));
    expect((await r.call<unknown[]>('GET', '/v1/destinations', { token: a.key })).body).toHaveLength(10);
  });

  it('a deleted destination frees its place', async () => {
    const a = await r.account();
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await r.destination(a.key));
    await r.call('DELETE', `/v1/destinations/${ids[0]}`, { token: a.key });
    expect((await create(a.key)).status).toBe(201);
    expect((await create(a.key)).status).toBe(400);
  });
});
