import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention sweep removes final deliveries (and, by cascade, their attempts) whose
 * last change is older than RETENTION_DAYS, a batch at a time, oldest first. Without this
 * index each batch would scan the whole table; with it, only the rows it removes. Its
 * predicate is the sweep's, word for word, so the planner can use it: deliveries still
 * pending, or owing a report, are never removed and not in it.
 */
export class FinalDeliveriesByAge1764001500000 implements MigrationInterface {
  name = 'FinalDeliveriesByAge1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deliveries_final_age ON deliveries (updated_at) WHERE state IN ('succeeded', 'failed', 'cancelled') AND report_due IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX deliveries_final_age');
  }
}
