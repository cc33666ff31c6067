import { INestApplication } from '@nestjs/common';
import { LoadSimulatorEnv, loadEnv } from '@posthooks/config';
import { createServiceApp } from '@posthooks/runtime';
import { testEnv } from '@posthooks/testing';
import { Client } from 'pg';
import { TableLoader } from '../src/loading/table-loader';
import { RejectedRetention } from '../src/retention/rejected-retention';
import { builtInDestination } from './destination-fixture';
import { loadSimulator } from '../src/service';

/**
 * Each integration's `_sdc_rejected` in its destination's database, written by the real loader, loses its rows past
 * RETENTION_DAYS and keeps the younger ones. Ages are set in SQL; the sweep is run directly.
 */
describe('RejectedRetention', () => {
  let app: INestApplication;
  let db: Client;
  let retention: RejectedRetention;

  beforeAll(async () => {
    const env = loadEnv(LoadSimulatorEnv, { ...testEnv('loader_retention'), NODE_ENV: 'test', LOG_LEVEL: 'error', RETENTION_DAYS: '30' });
    app = await createServiceApp(loadSimulator, env);
    db = await builtInDestination(app, env, 3);
    retention = app.get(RejectedRetention);
  });
  afterAll(async () => {
    await db?.end();
    await app?.close();
  });

  /** `n` records without their primary key loaded into `schema`: all rejected. */
  async function reject(schema: string, n: number, prefix: string): Promise<void> {
    const loader = app.get(TableLoader);
    const batch = Array.from({ length: n }, (_, i) => ({ record: { name: `r${i}` }, sourceId: `${prefix}:${i}`, receivedAt: new Date().toISOString() }));
    const result = await loader.write(loader.prepare(3, schema, 'id', batch, new Date()));
    expect(result.rejected).toHaveLength(n);
  }

  const rows = async (schema: string) =>
    (await db.query<{ source: string }>(`SELECT source FROM "${schema}"._sdc_rejected ORDER BY source`)).rows.map((r) => r.source);

  it('removes rejected rows older than RETENTION_DAYS in every integration’s schema, and keeps the younger ones', async () => {
    await reject('shop_9001', 3, 'old');
    await reject('shop_9001', 2, 'new');
    await reject('crm_9002', 6000, 'old');
    await reject('crm_9002', 1, 'new');
    for (const schema of ['shop_9001', 'crm_9002']) {
      await db.query(`UPDATE "${schema}"._sdc_rejected SET rejected_at = now() - interval '31 days' WHERE source LIKE 'old:%'`);
      await db.query(`UPDATE "${schema}"._sdc_rejected SET rejected_at = now() - interval '29 days' WHERE source LIKE 'new:%'`);
    }

    expect(await retention.sweep()).toEqual({ rejected_rows: 6003 });
    expect(await rows('shop_9001')).toEqual(['new:0', 'new:1']);
    expect(await rows('crm_9002')).toEqual(['new:0']);
    // Each table got the index its sweep reads by.
    const indexes = (await db.query<{ schemaname: string }>(`SELECT schemaname FROM pg_indexes WHERE tablename = '_sdc_rejected' AND indexname = '_sdc_rejected_at' ORDER BY schemaname`)).rows;
    expect(indexes.map((i) => i.schemaname)).toEqual(['crm_9002', 'shop_9001']);
    // A second sweep finds nothing more, and builds nothing twice.
    expect(await retention.sweep()).toEqual({ rejected_rows: 0 });
  });
});
