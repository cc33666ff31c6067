import { DataSource } from 'typeorm';
import { AuditRetention } from '../src/audit/audit-retention';
import { Registry } from './registry-harness';

/** The registry's audit rows past AUDIT_RETENTION_DAYS go, younger ones stay; ages set in SQL, the sweep run directly. */
describe('AuditRetention', () => {
  let r: Registry;
  let db: DataSource;

  beforeAll(async () => {
    r = await Registry.start('registry_retention', { AUDIT_RETENTION_DAYS: '365' });
    db = r.app.get(DataSource);
  });
  afterAll(() => r?.stop());

  it('removes audit rows older than AUDIT_RETENTION_DAYS, in batches, and keeps the younger ones', async () => {
    await db.query('DELETE FROM audit_log');
    await db.query(
      `INSERT INTO audit_log (account_id, actor, action, object_type, object_id, at)
       SELECT 1, 'old', 'hook.created', 'hook', i, now() - interval '366 days' - i * interval '1 second' FROM generate_series(1, 12000) AS i`,
    );
    await db.query(
      `INSERT INTO audit_log (account_id, actor, action, object_type, object_id, at)
       SELECT 1, 'kept', 'hook.created', 'hook', i, now() - interval '364 days' + i * interval '1 day' FROM generate_series(0, 364) AS i`,
    );

    expect(await r.app.get(AuditRetention).sweep()).toEqual({ audit_rows: 12000 });
    expect(await db.query('SELECT actor, count(*)::int AS n FROM audit_log GROUP BY actor')).toEqual([{ actor: 'kept', n: 365 }]);
  });
});
