import { HttpsReceiver, waitFor } from '@posthooks/testing';
import { Webhook } from 'standardwebhooks';
import { Client } from 'pg';
import { Stack } from './support/stack';

/**
 * SPEC §7 end to end: a third party POSTs JSON to an incoming-webhook URL, the records
 * land in Postgres, and the load's own table.loaded reaches the account's hook.
 */
describe('incoming webhooks, end to end', () => {
  let stack: Stack;
  let pg: Client;
  let rx: HttpsReceiver;

  beforeAll(async () => {
    stack = await Stack.start('e2e_ingest', { 'load-simulator': { LOAD_INTERVAL_MS: '300' } });
    pg = new Client({ connectionString: stack.env.DATABASE_URL });
    await pg.connect();
    rx = await HttpsReceiver.start();
  });
  afterAll(async () => {
    await pg.end();
    await stack.stop();
    await rx.close();
  });

  it('loads posted records into Postgres and sends the load\'s webhook', async () => {
    const acc = await stack.account();
    const hook = await stack.hook(acc.key, acc.destinationId, rx.url());
    await stack.registryApplied('ingest-gateway', 'dispatcher');
    const integration = await stack.call<{ id: number; webhook_url: string; schema: string }>('ingest-gateway', 'POST', '/v1/integrations', acc.key, { name: 'shopify', destination_id: acc.destinationId, primary_key: 'id' });
    expect(integration.status).toBe(201);
    const url = `${stack.get('ingest-gateway').url}${new URL(integration.body.webhook_url).pathname}`;

    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post([{ id: 1, total: 10 }, { id: 2, total: 20 }])).status).toBe(202);
    expect((await post({ id: 1, total: 15 })).status).toBe(202);

    const rows = await waitFor('the rows', async () => {
      const r = await pg.query(`SELECT id, total FROM "${integration.body.schema}".data ORDER BY id`).catch(() => ({ rows: [] }));
      return r.rows.length === 2 && r.rows[0].total === '15' && r.rows;
    });
    expect(rows).toEqual([
      { id: '1', total: '15' },
      { id: '2', total: '20' },
    ]);

    const requests = await rx.waitForRequests(1);
    const body = new Webhook(hook.secret).verify(requests[0].body, requests[0].headers as Record<string, string>) as Record<string, unknown>;
    expect(body).toMatchObject({ event_type: 'table.loaded', client_id: acc.id, integration_name: 'shopify', source_root_table_name: 'data' });
  });
});
