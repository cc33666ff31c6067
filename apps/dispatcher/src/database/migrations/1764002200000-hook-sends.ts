import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log of throttled hooks' sends (SPEC §9 `rate_limit_per_s`), shared by every replica:
 * a row per send, `ends_by` the end of its lease while it is under way, the time its answer
 * came once answered. A send counts against its hook's limit until a second after that
 * (HookThrottle); older rows are removed by the hook's next decision or the minute sweep,
 * so the table holds about one row per throttled hook's limit at most. Hooks without a
 * limit have none.
 */
export class HookSends1764002200000 implements MigrationInterface {
  name = 'HookSends1764002200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE hook_sends (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        hook_id integer NOT NULL,
        ends_by timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX hook_sends_by_hook ON hook_sends (hook_id, ends_by)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE hook_sends');
  }
}
