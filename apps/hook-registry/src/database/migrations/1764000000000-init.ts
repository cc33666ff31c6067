import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry's tables. The cap of 10 hooks per account lives here: a hook takes one
 * of ten numbered slots, unique per account, so no code path (nor ten concurrent
 * creates) can make an eleventh.
 */
export class Init1764000000000 implements MigrationInterface {
  name = 'Init1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id serial PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        plan text NOT NULL CHECK (plan IN ('free_trial', 'standard', 'advanced', 'premium', 'enterprise')),
        notification_email text NOT NULL,
        undeliverable_email boolean NOT NULL DEFAULT true,
        trial_ends_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX accounts_trials ON accounts (trial_ends_at) WHERE plan = 'free_trial'`);
    await q.query(`
      CREATE TABLE api_keys (
        id serial PRIMARY KEY,
        account_id integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        label text NOT NULL CHECK (length(label) BETWEEN 1 AND 255),
        key_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE destinations (
        id serial PRIMARY KEY,
        account_id integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
        type text NOT NULL CHECK (type = 'postgres'),
        schema text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX destinations_account ON destinations (account_id)`);
    await q.query(`
      CREATE TABLE hooks (
        id serial PRIMARY KEY,
        account_id integer NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        destination_id integer NOT NULL REFERENCES destinations (id) ON DELETE CASCADE,
        slot smallint NOT NULL CHECK (slot BETWEEN 1 AND 10),
        url text NOT NULL CHECK (length(url) <= 2048),
        created_at timestamptz NOT NULL DEFAULT now(),
        modified_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz,
        disabled_reason text CHECK (disabled_reason IN ('manual', 'plan_downgrade', 'endpoint_gone', 'failing')),
        CONSTRAINT hooks_account_slot UNIQUE (account_id, slot)
      )`);
    await q.query(`CREATE INDEX hooks_destination ON hooks (destination_id)`);
    await q.query(`
      CREATE TABLE hook_secrets (
        id serial PRIMARY KEY,
        hook_id integer NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await q.query(`CREATE INDEX hook_secrets_hook ON hook_secrets (hook_id)`);
    await q.query(`
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        account_id integer,
        actor text NOT NULL,
        action text NOT NULL,
        object_type text NOT NULL,
        object_id integer,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_account ON audit_log (account_id, at)`);
    // Transactional outbox: a change and its event commit together; the relay publishes.
    await q.query(`
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        subject text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox, audit_log, hook_secrets, hooks, destinations, api_keys, accounts');
  }
}
