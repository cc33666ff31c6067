import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A hook's settings beyond Stitch (SPEC §9), one column each so the database holds the
 * limits too. Every existing hook gets what a Stitch hook gets: table.loaded and
 * table.rejected, no filters (null: all), no custom headers, no rate limit. Header values
 * are stored sealed with SECRETS_KEY, like signing secrets: `[{"name","value"}]`.
 */
export class HookSettings1764002000000 implements MigrationInterface {
  name = 'HookSettings1764002000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE hooks
        ADD COLUMN event_types text[] NOT NULL DEFAULT '{table.loaded,table.rejected}'
          CHECK (cardinality(event_types) >= 1 AND event_types <@ '{table.loaded,table.rejected,load.started}'),
        ADD COLUMN integration_names text[] CHECK (cardinality(integration_names) BETWEEN 1 AND 100),
        ADD COLUMN table_names text[] CHECK (cardinality(table_names) BETWEEN 1 AND 100),
        ADD COLUMN headers jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(headers) = 'array' AND jsonb_array_length(headers) <= 10),
        ADD COLUMN rate_limit_per_s integer CHECK (rate_limit_per_s BETWEEN 1 AND 1000)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE hooks DROP COLUMN event_types, DROP COLUMN integration_names, DROP COLUMN table_names, DROP COLUMN headers, DROP COLUMN rate_limit_per_s');
  }
}
