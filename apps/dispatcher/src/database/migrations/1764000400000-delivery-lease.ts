import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lease on a delivery while one worker makes its attempt: a message redelivered while
 * the first handler still runs (its ack wait lapsed under load, or another replica got
 * it) then waits instead of sending the same attempt a second time.
 */
export class DeliveryLease1764000400000 implements MigrationInterface {
  name = 'DeliveryLease1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries ADD COLUMN leased_until timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries DROP COLUMN leased_until');
  }
}
