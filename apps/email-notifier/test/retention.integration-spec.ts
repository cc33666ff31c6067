import { SmtpSink } from '@posthooks/testing';
import { DataSource } from 'typeorm';
import { EmailRetention } from '../src/retention/email-retention';
import { Notifier } from './notifier-harness';

/**
 * The notifier's retention sweep against its real schema: undeliverable records and
 * finished emails past RETENTION_DAYS go; recent ones, emails not sent yet (and their
 * records) and an email a digest window still points at stay. Ages are set in SQL; the
 * sweep is run directly.
 */
describe('EmailRetention', () => {
  let sink: SmtpSink;
  let n: Notifier;
  let db: DataSource;
  let retention: EmailRetention;
  let nextHook = 800_000;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    n = await Notifier.start('notifier_retention', sink, { RETENTION_DAYS: '30' });
    db = n.db;
    retention = n.app.get(EmailRetention);
  });
  afterAll(async () => {
    await n?.stop();
    await sink?.close();
  });
  beforeEach(async () => {
    await db.query('DELETE FROM undeliverable_events');
    await db.query('DELETE FROM hook_windows');
    await db.query('DELETE FROM emails');
  });

  /** An email in `state` created `days` ago; not due for a day, so the outbox leaves it alone. */
  async function email(state: string, days: number): Promise<string> {
    const [{ id }] = await db.query<{ id: string }[]>(
      `INSERT INTO emails (message_id, kind, account_id, hook_id, content, state, next_attempt_at, created_at)
       VALUES (gen_random_uuid()::text, 'undeliverable', 1, $1, '{}', $2, now() + interval '1 day', now() - $3 * interval '1 day') RETURNING id`,
      [nextHook++, state, days],
    );
    return id;
  }

  /** An undeliverable record received `days` ago, pointing at `emailId` (none: opted out). */
  async function record(days: number, emailId: string | null = null): Promise<string> {
    const key = `key-${nextHook++}`;
    await db.query(
      `INSERT INTO undeliverable_events (event_key, account_id, hook_id, webhook_id, event_id, outcome, email_id, received_at)
       VALUES ($1, 1, 1, 'msg_1', 'ev-1', $2, $3, now() - $4 * interval '1 day')`,
      [key, emailId ? 'emailed' : 'opted_out', emailId, days],
    );
    return key;
  }

  const emailIds = async () => (await db.query<{ id: string }[]>('SELECT id FROM emails ORDER BY id')).map((r) => r.id);
  const recordKeys = async () => (await db.query<{ event_key: string }[]>('SELECT event_key FROM undeliverable_events ORDER BY event_key')).map((r) => r.event_key);

  it('removes records and finished emails older than RETENTION_DAYS, and keeps the rest', async () => {
    const oldSent = await email('sent', 31);
    const oldCancelled = await email('cancelled', 90);
    const oldSentWithRecord = await email('sent', 31);
    const oldRecord = await record(31, oldSentWithRecord);
    const oldOptedOut = await record(45);

    const recentSent = await email('sent', 29);
    const recentRecord = await record(29, recentSent);
    const oldPending = await email('pending', 40);
    const recordOfPending = await record(40, oldPending);
    const oldDigest = await email('rejected', 40);
    await db.query(`INSERT INTO hook_windows (hook_id, opened_at, closes_at, digest_id) VALUES (1, now() - interval '40 days', now() - interval '40 days', $1)`, [oldDigest]);

    expect(await retention.sweep()).toEqual({ undeliverable_records: 2, emails: 3 });

    const keptEmails = await emailIds();
    for (const gone of [oldSent, oldCancelled, oldSentWithRecord]) expect(keptEmails).not.toContain(gone);
    expect(keptEmails.sort()).toEqual([recentSent, oldPending, oldDigest].sort());
    const keptRecords = await recordKeys();
    for (const gone of [oldRecord, oldOptedOut]) expect(keptRecords).not.toContain(gone);
    expect(keptRecords.sort()).toEqual([recentRecord, recordOfPending].sort());
  });

  it('removes more than one batch in one sweep', async () => {
    await db.query(
      `INSERT INTO undeliverable_events (event_key, account_id, hook_id, webhook_id, event_id, outcome, received_at)
       SELECT 'bulk-' || i, 1, 1, 'msg_1', 'ev-' || i, 'opted_out', now() - interval '31 days' FROM generate_series(1, 12000) AS i`,
    );
    const recent = await record(1);
    expect(await retention.sweep()).toEqual({ undeliverable_records: 12000, emails: 0 });
    expect(await recordKeys()).toEqual([recent]);
  });
});
