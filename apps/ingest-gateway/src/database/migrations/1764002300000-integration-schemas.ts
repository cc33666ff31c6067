import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each integration loads into a schema of its destination's own database, named after it
 * (issue 17, SPEC §7); one name per destination, so the schema is unique there. An
 * integration created before keeps the schema it had, `<name>_<id>` (its rows already
 * there, and two of them may share a name in one destination): only new ones are named
 * exactly, and a new name that equals an old schema is refused like any taken one.
 */
export class IntegrationSchemas1764002300000 implements MigrationInterface {
  name = 'IntegrationSchemas1764002300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE integrations ADD COLUMN schema text');
    await q.query(`UPDATE integrations SET schema = name || '_' || id`);
    await q.query('ALTER TABLE integrations ALTER COLUMN schema SET NOT NULL');
    await q.query('CREATE UNIQUE INDEX integrations_destination_schema ON integrations (destination_id, schema)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX integrations_destination_schema');
    await q.query('ALTER TABLE integrations DROP COLUMN schema');
  }
}
