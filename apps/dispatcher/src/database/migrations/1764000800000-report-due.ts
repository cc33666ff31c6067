import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The report a delivery's final state owes (hook.undeliverable or hook.gone), recorded
 * with that state and cleared once NOTIFY has acknowledged it: a report NOTIFY refused
 * (full, NATS unreachable) or a crash interrupted is published again by the report sweep,
 * so it can never be lost between the commit and the publish. The partial index serves
 * the sweep.
 */
export class ReportDue1764000800000 implements MigrationInterface {
  name = 'ReportDue1764000800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ADD COLUMN report_due text CHECK (report_due IN ('undeliverable', 'gone'))`);
    await q.query('CREATE INDEX deliveries_report_due ON deliveries (updated_at) WHERE report_due IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX deliveries_report_due');
    await q.query('ALTER TABLE deliveries DROP COLUMN report_due');
  }
}
