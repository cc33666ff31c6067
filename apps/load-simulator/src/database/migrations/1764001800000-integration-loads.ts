import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each incoming-webhook integration has loaded (the console's "Rows loaded" and
 * "Last load", SPEC §11): one row per integration, added to at every flush. The gateway
 * owns integrations, the loader owns loads, so the figures live here.
 */
export class IntegrationLoads1764001800000 implements MigrationInterface {
  name = 'IntegrationLoads1764001800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE integration_loads (
        integration_id integer PRIMARY KEY,
        client_id integer NOT NULL,
        rows_loaded bigint NOT NULL DEFAULT 0,
        rows_rejected bigint NOT NULL DEFAULT 0,
        last_loaded_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX integration_loads_client_id ON integration_loads (client_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE integration_loads');
  }
}
