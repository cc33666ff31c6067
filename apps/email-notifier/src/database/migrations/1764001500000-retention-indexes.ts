import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention sweep removes undeliverable records by `received_at` and finished emails
 * (sent, rejected, cancelled) by `created_at`, a batch at a time: these indexes let each
 * batch read only the rows it removes instead of scanning the table. The emails index has
 * the sweep's predicate, so it holds no email still waiting to be sent.
 */
export class RetentionIndexes1764001500000 implements MigrationInterface {
  name = 'RetentionIndexes1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX undeliverable_events_received ON undeliverable_events (received_at)');
    await q.query(`CREATE INDEX emails_finished_age ON emails (created_at) WHERE state IN ('sent', 'rejected', 'cancelled')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX undeliverable_events_received, emails_finished_age');
  }
}
