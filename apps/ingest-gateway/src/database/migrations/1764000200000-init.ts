import { MigrationInterface, QueryRunner } from 'typeorm';

/** Incoming-webhook integrations and their secret URLs (only the tokens' hashes are kept). */
export class Init1764000200000 implements MigrationInterface {
  name = 'Init1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE integrations (
        id serial PRIMARY KEY,
        account_id integer NOT NULL,
        destination_id integer NOT NULL,
        name text NOT NULL,
        primary_key text CHECK (length(primary_key) BETWEEN 1 AND 50),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX integrations_account ON integrations (account_id)');
    await q.query(`
      CREATE TABLE webhook_urls (
        id serial PRIMARY KEY,
        integration_id integer NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query('CREATE INDEX webhook_urls_integration ON webhook_urls (integration_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_urls, integrations');
  }
}
