import { DataSource } from 'typeorm';
import { DeliveryRetention } from '../src/delivery/delivery-retention';
import { Dispatcher } from './dispatcher-harness';

/**
 * The dispatcher's retention sweep against its real schema: final deliveries past
 * RETENTION_DAYS go with their attempts; recent ones, pending ones and ones still owing a
 * report stay. Rows are written with their ages set in SQL; the sweep is run directly.
 */
describe('DeliveryRetention', () => {
  let d: Dispatcher;
  let db: DataSource;
  let retention: DeliveryRetention;
  let nextHook = 700_000;

  beforeAll(async () => {
    // Nothing here is due; a poll longer than the test keeps the scheduler from touching the rows.
    d = await Dispatcher.start('dispatch_retention', { DELIVERY_POLL_MS: '3600000', RETENTION_DAYS: '30' });
    db = d.app.get(DataSource);
    retention = d.app.get(DeliveryRetention);
  });
  afterAll(() => d.stop());
  beforeEach(() => db.query('DELETE FROM deliveries'));

  /** `n` deliveries of a new hook in `state`, last changed `days` ago, each with two attempts. */
  async function deliveries(state: string, days: number, n = 1, reportDue: string | null = null): Promise<number> {
    const hook = nextHook++;
    await db.query(
      `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, state, next_attempt_at, report_due, created_at, updated_at)
       SELECT 'msg_r' || $1::text || '_' || i, $1::int, 1, 'ev-' || i, 'table.loaded', '{}', $2::text,
              CASE WHEN $2 = 'pending' THEN now() + interval '1 day' END, $5::text, now() - $3 * interval '1 day', now() - $3 * interval '1 day'
       FROM generate_series(1, $4::int) AS i`,
      [hook, state, days, n, reportDue],
    );
    await db.query(
      `INSERT INTO attempts (webhook_id, hook_id, attempt, status, attempted_at)
       SELECT webhook_id, hook_id, a, 'failed', updated_at FROM deliveries, generate_series(1, 2) AS a WHERE hook_id = $1`,
      [hook],
    );
    return hook;
  }

  const count = async (table: 'deliveries' | 'attempts', hook: number) => (await db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table} WHERE hook_id = $1`, [hook]))[0].n;

  it('removes final deliveries older than RETENTION_DAYS with their attempts, and keeps the rest', async () => {
    const oldSucceeded = await deliveries('succeeded', 31);
    const oldFailed = await deliveries('failed', 31);
    const oldCancelled = await deliveries('cancelled', 45);
    const recent = await deliveries('succeeded', 29);
    const oldPending = await deliveries('pending', 60);
    const oldOwingReport = await deliveries('failed', 60, 1, 'undeliverable');

    expect(await retention.sweep()).toEqual({ deliveries: 3 });

    for (const gone of [oldSucceeded, oldFailed, oldCancelled]) {
      expect([await count('deliveries', gone), await count('attempts', gone)]).toEqual([0, 0]);
    }
    for (const kept of [recent, oldPending, oldOwingReport]) {
      expect([await count('deliveries', kept), await count('attempts', kept)]).toEqual([1, 2]);
    }
  });

  it('removes more than one batch in one sweep', async () => {
    const old = await deliveries('succeeded', 40, 2500);
    const recent = await deliveries('succeeded', 1, 10);
    expect(await retention.sweep()).toEqual({ deliveries: 2500 });
    expect(await count('attempts', old)).toBe(0);
    expect(await count('deliveries', recent)).toBe(10);
  });

  it('finds what it removes through deliveries_final_age, not by scanning the table', async () => {
    const plan = await db.transaction(async (m) => {
      await m.query('SET LOCAL enable_seqscan = off');
      const rows = await m.query<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN SELECT webhook_id FROM deliveries WHERE state IN ('succeeded', 'failed', 'cancelled') AND report_due IS NULL AND updated_at < now() - 30 * interval '1 day' ORDER BY updated_at LIMIT 1000`,
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('deliveries_final_age');
  });
});
