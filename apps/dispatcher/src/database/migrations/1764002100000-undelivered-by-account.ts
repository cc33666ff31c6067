import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The undelivered view (`GET /v1/deliveries`) lists one account's deliveries in one
 * state, newest first, a page at a time: this index gives that order directly, so a
 * page reads its rows and no more, however many deliveries the account has. Partial:
 * succeeded deliveries, most of the table, are never listed there and stay out of it
 * (a delivery leaves it when it succeeds). The undelivered gauge counts over it too.
 */
export class UndeliveredByAccount1764002100000 implements MigrationInterface {
  name = 'UndeliveredByAccount1764002100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deliveries_undelivered ON deliveries (account_id, state, created_at DESC, webhook_id DESC) WHERE state IN ('failed', 'pending', 'cancelled')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX deliveries_undelivered');
  }
}
