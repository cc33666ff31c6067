import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Destinations get a connection of their own (issue 17, SPEC §2): `connection_url` holds
 * it sealed under SECRETS_KEY; null is the built-in database (`posthooks_dest_<id>`).
 * `schema` stays for rows written before, with a default: nothing reads it any more.
 */
export class DestinationConnections1764002300000 implements MigrationInterface {
  name = 'DestinationConnections1764002300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE destinations ADD COLUMN connection_url text');
    await q.query(`ALTER TABLE destinations ALTER COLUMN schema SET DEFAULT 'public'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE destinations ALTER COLUMN schema DROP DEFAULT');
    await q.query('ALTER TABLE destinations DROP COLUMN connection_url');
  }
}
