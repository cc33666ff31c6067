import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The retention sweep removes audit rows older than AUDIT_RETENTION_DAYS across all
 * accounts, a batch at a time: the index by account cannot serve that, this one can.
 */
export class AuditByAge1764001510000 implements MigrationInterface {
  name = 'AuditByAge1764001510000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX audit_log_at ON audit_log (at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX audit_log_at');
  }
}
