import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lease sweep looks for pending deliveries whose lease ran out (a dispatcher died
 * during a first attempt made without a DELIVERIES message). Only leased, pending rows
 * are in this index, so it stays as small as the work in flight.
 */
export class ExpiredLeaseIndex1764000500000 implements MigrationInterface {
  name = 'ExpiredLeaseIndex1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deliveries_leased_pending ON deliveries (leased_until) WHERE state = 'pending' AND leased_until IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX deliveries_leased_pending');
  }
}
