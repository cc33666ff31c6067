import { Gateway } from './gateway-harness';

/** SPEC §7 and §10: what an integration may be called, and how many an account may have. */
describe('integration limits', () => {
  let g: Gateway;
  beforeAll(async () => (g = await Gateway.start('gateway_integration_limits')));
  afterAll(() => g.stop());

  const reserved = { error: 'name must not be pg, start with pg_, or be information_schema or public: Postgres keeps those schema names for itself' };

  it.each(['pg_catalog', 'pg_stats', 'pg_', 'pg', 'information_schema', 'public'])('refuses the name %s, a schema name Postgres keeps, with 400', async (name) => {
    const acc = await g.account();
    expect(await g.api('POST', '/v1/integrations', acc.key, { name, destination_id: acc.destinationId })).toEqual({ status: 400, body: reserved });
    expect((await g.api<unknown[]>('GET', '/v1/integrations', acc.key)).body).toEqual([]);
  });

  it.each(['pgx', 'page', 'p_g', 'shop_pg_', 'publics'])('accepts the name %s, and the schema is the name', async (name) => {
    const acc = await g.account();
    const res = await g.api<{ schema: string }>('POST', '/v1/integrations', acc.key, { name, destination_id: acc.destinationId });
    expect(res.status).toBe(201);
    expect(res.body.schema).toBe(name);
  });

  it.each([
    ['over 50 characters', 's'.repeat(51)],
    ['upper case', 'Shop'],
    ['a leading digit', '1shop'],
    ['a quote', 'a"b'],
  ])('refuses a name with %s, with 400', async (_, name) => {
    const acc = await g.account();
    const res = await g.api<{ error: string }>('POST', '/v1/integrations', acc.key, { name, destination_id: acc.destinationId });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^name must be a lower-case identifier/);
  });

  it('refuses a name already used in the destination with 409, also under concurrent creates; another destination may use it', async () => {
    const acc = await g.account();
    const results = await Promise.all(Array.from({ length: 5 }, () => g.api('POST', '/v1/integrations', acc.key, { name: 'shop', destination_id: acc.destinationId })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(results.find((r) => r.status === 409)!.body).toEqual({ error: 'an integration named shop already loads into this destination (its schema shop): choose another name' });
    const other = await g.destination(acc.id);
    expect((await g.api('POST', '/v1/integrations', acc.key, { name: 'shop', destination_id: other })).status).toBe(201);
    expect((await g.api<unknown[]>('GET', '/v1/integrations', acc.key)).body).toHaveLength(2);
  });

  it('refuses the 101st integration of an account with 400, also under concurrent creates', async () => {
    const acc = await g.account();
    const create = (i: number) => g.api('POST', '/v1/integrations', acc.key, { name: `source${i}`, destination_id: acc.destinationId });
    for (let i = 0; i < 95; i++) expect((await create(i)).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => create(95 + i)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 400).map((r) => r.body)).toEqual(Array(5).fill({ error: 'an account has at most 100 integrations' }));
    expect((await g.api<unknown[]>('GET', '/v1/integrations', acc.key)).body).toHaveLength(100);
    // Another account is not affected.
    const other = await g.account();
    expect((await g.api('POST', '/v1/integrations', other.key, { name: 'shop', destination_id: other.destinationId })).status).toBe(201);
  });
});
