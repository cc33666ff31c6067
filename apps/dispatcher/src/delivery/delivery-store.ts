import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AttemptResult } from './webhook-sender';

export type DeliveryState = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface DeliveryRow {
  webhook_id: string;
  hook_id: number;
  account_id: number;
  event_id: string;
  event_type: string;
  body: string;
  state: DeliveryState;
  round: number;
  round_attempts: number;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  leased_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

export type NewDelivery = Pick<DeliveryRow, 'webhook_id' | 'hook_id' | 'account_id' | 'event_id' | 'event_type' | 'body'>;

/** The dispatcher's Postgres: deliveries and the log of their attempts. */
@Injectable()
export class DeliveryStore {
  constructor(private readonly db: DataSource) {}

  /** Records new deliveries; one that exists already (a redelivered load event) is left as it is. */
  async insert(deliveries: NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.query(
      `INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body)
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[])
       ON CONFLICT (webhook_id) DO NOTHING`,
      [
        deliveries.map((d) => d.webhook_id),
        deliveries.map((d) => d.hook_id),
        deliveries.map((d) => d.account_id),
        deliveries.map((d) => d.event_id),
        deliveries.map((d) => d.event_type),
        deliveries.map((d) => d.body),
      ],
    );
  }

  /**
   * Takes the delivery for `leaseMs` unless another worker holds it: the row, or
   * `leased` if someone else is at it, or undefined if there is no such delivery.
   */
  async lease(webhookId: string, leaseMs: number): Promise<DeliveryRow | 'leased' | undefined> {
    const [row] = await this.db.query<(DeliveryRow & { taken: boolean })[]>(
      `WITH taken AS (
         UPDATE deliveries SET leased_until = now() + make_interval(secs => $2 / 1000.0)
         WHERE webhook_id = $1 AND (leased_until IS NULL OR leased_until < now()) RETURNING *
       )
       SELECT *, true AS taken FROM taken
       UNION ALL SELECT *, false AS taken FROM deliveries WHERE webhook_id = $1 AND NOT EXISTS (SELECT 1 FROM taken)`,
      [webhookId, leaseMs],
    );
    if (!row) return undefined;
    return row.taken ? row : 'leased';
  }

  async release(webhookId: string): Promise<void> {
    await this.db.query('UPDATE deliveries SET leased_until = NULL WHERE webhook_id = $1', [webhookId]);
  }

  /** Marks attempt `n` as under way; an attempt a crash interrupted is taken over, not counted twice. */
  async startAttempt(d: DeliveryRow, n: number): Promise<void> {
    await this.db.query(
      `INSERT INTO attempts (webhook_id, hook_id, attempt, status) VALUES ($1, $2, $3, 'pending')
       ON CONFLICT (webhook_id, attempt) DO UPDATE SET status = 'pending', attempted_at = now()`,
      [d.webhook_id, d.hook_id, n],
    );
  }

  /** Logs the attempt's outcome, moves the delivery on and ends the lease: one statement, so all or nothing. */
  async finishAttempt(d: DeliveryRow, n: number, r: AttemptResult, next: { state: DeliveryState; nextAttemptAt: Date | null }): Promise<void> {
    await this.db.query(
      `WITH logged AS (
         UPDATE attempts SET status = $3, status_code = $4, error = $5, duration_ms = $6, response_body = $7, next_attempt_at = $8
         WHERE webhook_id = $1 AND attempt = $2
       )
       UPDATE deliveries SET state = $9, attempts = $2, round_attempts = round_attempts + 1, next_attempt_at = $8, last_error = $5, leased_until = NULL, updated_at = now()
       WHERE webhook_id = $1`,
      [d.webhook_id, n, r.ok ? 'succeeded' : 'failed', r.statusCode, r.error, r.durationMs, r.responseBody, next.nextAttemptAt, next.state],
    );
  }

  async cancel(webhookId: string, reason: string): Promise<void> {
    await this.db.query(`UPDATE deliveries SET state = 'cancelled', last_error = $2, next_attempt_at = NULL, leased_until = NULL, updated_at = now() WHERE webhook_id = $1 AND state = 'pending'`, [webhookId, reason]);
  }

  /** Starts a new round for a replay: the schedule begins again. Returns the round, or undefined if unknown. */
  async newRound(webhookId: string, accountId: number): Promise<number | undefined> {
    const [[row]] = await this.db.query<[{ round: number }[], number]>(
      `UPDATE deliveries SET round = round + 1, round_attempts = 0, state = 'pending', next_attempt_at = NULL, updated_at = now()
       WHERE webhook_id = $1 AND account_id = $2 RETURNING round`,
      [webhookId, accountId],
    );
    return row?.round;
  }
}
