import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The delivery log is read newest first by `attempted_at` (SPEC §5), ties broken by id.
 * Row ids are not time order: two transactions commit out of order, and an attempt taken
 * over after a crash keeps its row but gets a new time. This index serves that order and
 * replaces the one by id.
 */
export class AttemptsByTime1764000700000 implements MigrationInterface {
  name = 'AttemptsByTime1764000700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX attempts_hook_time ON attempts (hook_id, attempted_at DESC, id DESC)');
    await q.query('DROP INDEX attempts_hook');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX attempts_hook ON attempts (hook_id, id DESC)');
    await q.query('DROP INDEX attempts_hook_time');
  }
}
