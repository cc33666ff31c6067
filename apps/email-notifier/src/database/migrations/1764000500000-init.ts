import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The notifier's record of what it was told and what it sent.
 *
 * - `undeliverable_events`: one row per hook.undeliverable message, keyed by its
 *   Nats-Msg-Id and written before the message is acked: a redelivery finds it and
 *   sends nothing.
 * - `emails`: the outbox. Every email (one per event, or one digest) is a row with a
 *   Message-ID fixed at creation; the sender claims due rows, marks them `sending`
 *   before SMTP and `sent` right after the 250. `next_attempt_at` is when a pending row
 *   is due, and for a `sending` row when its claim lapses (a sender that died).
 * - `hook_windows`: flood control, one row per hook: the current digest window.
 */
export class Init1764000500000 implements MigrationInterface {
  name = 'Init1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE emails (
        id bigserial PRIMARY KEY,
        message_id text NOT NULL UNIQUE,
        kind text NOT NULL CHECK (kind IN ('undeliverable', 'digest')),
        account_id integer NOT NULL,
        hook_id integer NOT NULL,
        content jsonb NOT NULL,
        folded integer NOT NULL DEFAULT 0,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'rejected', 'cancelled')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        to_address text,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    await q.query(`CREATE INDEX emails_due ON emails (next_attempt_at) WHERE state IN ('pending', 'sending')`);
    await q.query(`
      CREATE TABLE undeliverable_events (
        event_key text PRIMARY KEY,
        account_id integer NOT NULL,
        hook_id integer NOT NULL,
        webhook_id text NOT NULL,
        event_id text NOT NULL,
        outcome text CHECK (outcome IN ('emailed', 'folded', 'opted_out')),
        email_id bigint REFERENCES emails (id),
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX undeliverable_events_email ON undeliverable_events (email_id)');
    await q.query(`
      CREATE TABLE hook_windows (
        hook_id integer PRIMARY KEY,
        opened_at timestamptz NOT NULL,
        closes_at timestamptz NOT NULL,
        emailed integer NOT NULL DEFAULT 0,
        folded integer NOT NULL DEFAULT 0,
        digest_id bigint REFERENCES emails (id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE hook_windows, undeliverable_events, emails');
  }
}
