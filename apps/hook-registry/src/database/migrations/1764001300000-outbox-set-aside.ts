import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An outbox row that can never be published (over the payload limit, refused by the
 * stream) is set aside rather than retried forever in front of every later change. It
 * stays in the table, marked with when and why, for an operator to see.
 */
export class OutboxSetAside1764001300000 implements MigrationInterface {
  name = 'OutboxSetAside1764001300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE outbox ADD COLUMN set_aside_at timestamptz, ADD COLUMN set_aside_reason text');
    await q.query('CREATE INDEX outbox_pending ON outbox (id) WHERE set_aside_at IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX outbox_pending');
    await q.query('ALTER TABLE outbox DROP COLUMN set_aside_at, DROP COLUMN set_aside_reason');
  }
}
