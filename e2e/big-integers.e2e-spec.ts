import { waitFor } from '@posthooks/testing';
import { DestinationDatabases } from './support/destination-databases';
import { Stack } from './support/stack';

/**
 * SPEC §7 "integers keep every digit", from the HTTP post to the row: JSON.parse rounds
 * 9007199254740993 to 9007199254740992, at the gateway and again in the loader, so two
 * records became one row (with a primary key) or two rows with the same wrong id.
 */
describe('big integers, end to end', () => {
  let stack: Stack;
  let pg: DestinationDatabases;

  beforeAll(async () => {
    stack = await Stack.start('e2e_bigint', { 'load-simulator': { LOAD_INTERVAL_MS: '300' } });
    pg = new DestinationDatabases(stack.env.DATABASE_URL);
  });
  afterAll(async () => {
    await pg.end();
    await stack.stop();
  });

  it.each([
    ['with a primary key', 'id'],
    ['appended, without one', undefined],
  ])('stores ids 9007199254740993 and 9007199254740992 as two exact rows, %s', async (_how, primaryKey) => {
    const acc = await stack.account();
    await stack.registryApplied('ingest-gateway');
    const integration = await stack.call<{ webhook_url: string; schema: string }>('ingest-gateway', 'POST', '/v1/integrations', acc.key, {
      name: 'ledger',
      destination_id: acc.destinationId,
      ...(primaryKey ? { primary_key: primaryKey } : {}),
    });
    expect(integration.status).toBe(201);
    const url = `${stack.get('ingest-gateway').url}${new URL(integration.body.webhook_url).pathname}`;
    // Written by hand: JSON.stringify cannot write these numbers.
    const body = '[{"id":9007199254740993,"amount":12345678901234567890.12},{"id":9007199254740992,"amount":1}]';
    const posted = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(posted.status).toBe(202);

    const rows = await waitFor('the rows', async () => {
      const r = await pg.rows(acc.destinationId, `SELECT id::text, amount::text FROM "${integration.body.schema}".data ORDER BY data.id`);
      return r.length === 2 && r;
    });
    expect(rows).toEqual([
      { id: '9007199254740992', amount: '1' },
      { id: '9007199254740993', amount: '12345678901234567890.12' },
    ]);
  });
});
