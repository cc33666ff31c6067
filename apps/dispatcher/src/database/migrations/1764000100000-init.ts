import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The delivery log. A delivery is one event to one hook (its `webhook_id` is the
 * Standard Webhooks id every attempt carries); its attempts are the log users read.
 * `round` counts manual replays: a replay starts the retry schedule over.
 */
export class Init1764000100000 implements MigrationInterface {
  name = 'Init1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE deliveries (
        webhook_id text PRIMARY KEY,
        hook_id integer NOT NULL,
        account_id integer NOT NULL,
        event_id text NOT NULL,
        event_type text NOT NULL,
        body text NOT NULL,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed', 'cancelled')),
        round integer NOT NULL DEFAULT 1,
        round_attempts integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX deliveries_hook_state ON deliveries (hook_id, state, updated_at)');
    await q.query(`
      CREATE TABLE attempts (
        id bigserial PRIMARY KEY,
        webhook_id text NOT NULL REFERENCES deliveries (webhook_id) ON DELETE CASCADE,
        hook_id integer NOT NULL,
        attempt integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        status_code integer,
        error text,
        duration_ms integer,
        response_body text,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz,
        CONSTRAINT attempts_once UNIQUE (webhook_id, attempt)
      )`);
    await q.query('CREATE INDEX attempts_hook ON attempts (hook_id, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE attempts, deliveries');
  }
}
