import { Injectable } from '@nestjs/common';
import { HookUndeliverableEvent } from '@posthooks/contracts';
import { DataSource } from 'typeorm';
import { DigestContent } from './email-content';

export type EmailKind = 'undeliverable' | 'digest';
export type EmailState = 'pending' | 'sending' | 'sent' | 'rejected' | 'cancelled';

export interface EmailRow {
  id: string;
  message_id: string;
  kind: EmailKind;
  account_id: number;
  hook_id: number;
  content: HookUndeliverableEvent | DigestContent;
  folded: number;
  state: EmailState;
  attempts: number;
  next_attempt_at: Date;
  to_address: string | null;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** A row this sender now owns; `was` tells a normal claim (`pending`) from taking over a send that died (`sending`). */
export type ClaimedEmail = EmailRow & { was: EmailState };

/** The outbox's SQL. Every write after a send names the claim (`attempts`), so a sender whose claim lapsed cannot overwrite a newer one. */
@Injectable()
export class EmailStore {
  constructor(private readonly db: DataSource) {}

  /**
   * Takes up to `limit` due emails: pending ones whose time has come, and `sending` ones
   * whose claim lapsed (their sender died mid-send). Marks them `sending` for `leaseMs`.
   * SKIP LOCKED lets replicas claim side by side without taking the same row.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedEmail[]> {
    const [rows] = await this.db.query<[ClaimedEmail[], number]>(
      `WITH due AS (
         SELECT id, state AS was FROM emails
         WHERE state IN ('pending', 'sending') AND next_attempt_at <= clock_timestamp()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE emails e SET state = 'sending', attempts = e.attempts + 1, next_attempt_at = clock_timestamp() + $2 * interval '1 millisecond'
       FROM due WHERE e.id = due.id
       RETURNING e.*, due.was`,
      [limit, leaseMs],
    );
    return rows;
  }

  async markSent(e: ClaimedEmail, to: string): Promise<void> {
    await this.db.query(
      `UPDATE emails SET state = 'sent', to_address = $3, last_error = NULL, sent_at = now() WHERE id = $1 AND attempts = $2 AND state = 'sending'`,
      [e.id, e.attempts, to],
    );
  }

  async retryLater(e: ClaimedEmail, delayMs: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE emails SET state = 'pending', last_error = $3, next_attempt_at = clock_timestamp() + $4 * interval '1 millisecond'
       WHERE id = $1 AND attempts = $2 AND state = 'sending'`,
      [e.id, e.attempts, error, delayMs],
    );
  }

  /** Final: a 5xx for the address or the message (`rejected`), or the account opted out meanwhile (`cancelled`). */
  async finish(e: ClaimedEmail, state: 'rejected' | 'cancelled', error: string, to: string | null): Promise<void> {
    await this.db.query(`UPDATE emails SET state = $3, last_error = $4, to_address = $5 WHERE id = $1 AND attempts = $2 AND state = 'sending'`, [e.id, e.attempts, state, error, to]);
  }

  /** Emails not sent yet: retrying, or digests whose window is still open. */
  async countWaiting(): Promise<number> {
    const [{ n }] = await this.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM emails WHERE state IN ('pending', 'sending')`);
    return n;
  }
}
