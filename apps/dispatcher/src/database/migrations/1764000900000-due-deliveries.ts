import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Waiting is data: a pending delivery is due at its `next_attempt_at`, and replicas
 * claim the due ones from Postgres instead of waiting for DELIVERIES messages. A pending
 * row left by the message-driven dispatcher without a time was waiting for its message:
 * it is due now. The claim walks pending deliveries one hook at a time, oldest due
 * first (deliveries_due), once it has seen that something is due at all
 * (deliveries_due_at: an idle claim costs one index probe); the lease sweep's index is gone with the sweep (an expired
 * lease now simply makes the row claimable again).
 */
export class DueDeliveries1764000900000 implements MigrationInterface {
  name = 'DueDeliveries1764000900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE deliveries SET next_attempt_at = updated_at WHERE state = 'pending' AND next_attempt_at IS NULL`);
    await q.query(`ALTER TABLE deliveries ADD CONSTRAINT pending_is_due CHECK (state <> 'pending' OR next_attempt_at IS NOT NULL)`);
    await q.query(`CREATE INDEX deliveries_due ON deliveries (hook_id, next_attempt_at) WHERE state = 'pending'`);
    await q.query(`CREATE INDEX deliveries_due_at ON deliveries (next_attempt_at) WHERE state = 'pending'`);
    await q.query('DROP INDEX deliveries_leased_pending');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deliveries_leased_pending ON deliveries (leased_until) WHERE state = 'pending' AND leased_until IS NOT NULL`);
    await q.query('DROP INDEX deliveries_due, deliveries_due_at');
    await q.query('ALTER TABLE deliveries DROP CONSTRAINT pending_is_due');
  }
}
