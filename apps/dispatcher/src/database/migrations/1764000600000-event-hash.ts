import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the load event said, hashed, beside each of its deliveries: an event whose
 * `event_id` was delivered already is not delivered again, and when its body differs
 * that is logged and counted (SPEC §4) rather than passed over in silence. Deliveries
 * recorded before this column (and pings) have none and are never taken for a conflict.
 */
export class EventHash1764000600000 implements MigrationInterface {
  name = 'EventHash1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries ADD COLUMN event_hash text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE deliveries DROP COLUMN event_hash');
  }
}
