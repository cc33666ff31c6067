import { Injectable } from '@nestjs/common';
import { StatementBatcher } from '@posthooks/persistence';
import { DataSource } from 'typeorm';
import { AttemptResult } from './webhook-sender';

export type DeliveryState = 'pending' | 'succeeded' | 'failed' | 'cancelled';

/** The report a failed delivery owes on NOTIFY: after its last attempt, or after a 410. */
export type ReportKind = 'undeliverable' | 'gone';

export interface DeliveryRow {
  webhook_id: string;
  hook_id: number;
  account_id: number;
  event_id: string;
  event_type: string;
  body: string;
  /** sha256 of what the load event said (eventHash); null for pings and older rows. */
  event_hash: string | null;
  state: DeliveryState;
  round: number;
  round_attempts: number;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  leased_until: Date | null;
  /** A report recorded with the final state and not yet acknowledged by NOTIFY. */
  report_due: ReportKind | null;
  created_at: Date;
  updated_at: Date;
}

export type NewDelivery = Pick<DeliveryRow, 'webhook_id' | 'hook_id' | 'account_id' | 'event_id' | 'event_type' | 'body' | 'event_hash'>;

/** What recording a delivery found: none yet, the same event recorded, or another event under the same id. */
export type Recorded = 'new' | 'exists' | 'conflict';

/** A delivery to record; `leaseMs` when its first attempt is made at once, in this process. */
interface ToRecord {
  d: NewDelivery;
  leaseMs?: number;
}

interface Finish {
  d: DeliveryRow;
  n: number;
  r: AttemptResult;
  next: Next;
}

/** What an attempt's outcome makes of the delivery; `report` when it ends it with one owed. */
export interface Next {
  state: DeliveryState;
  nextAttemptAt: Date | null;
  report?: ReportKind;
}

/** A report owed, as the report sweep finds it: the delivery and its last attempt's status. */
export type DueReport = DeliveryRow & { report_due: ReportKind; last_status_code: number | null };

/**
 * The dispatcher's Postgres: deliveries and the log of their attempts. The writes on the
 * path of every delivery (record, lease, start, finish, release) are batched across
 * concurrent callers: one statement per batch, each row's outcome its own.
 */
@Injectable()
export class DeliveryStore {
  private readonly inserts = new StatementBatcher<ToRecord, Recorded>((rs) => this.insertNow(rs));
  private readonly leases = new StatementBatcher<{ webhookId: string; leaseMs: number }, DeliveryRow | 'leased' | undefined>((ls) => this.leaseNow(ls));
  private readonly releases = new StatementBatcher<string>((ids) => this.releaseNow(ids));
  private readonly starts = new StatementBatcher<{ d: DeliveryRow; n: number }>((ss) => this.startNow(ss));
  private readonly finishes = new StatementBatcher<Finish, boolean>((fs) => this.finishNow(fs));

  constructor(private readonly db: DataSource) {}

  /**
   * Records a new delivery: `new`, or `exists` if it was recorded already (a redelivered
   * load event), or `conflict` if it was, from an event with the same id but another
   * body; an existing delivery is left as it is. With `leaseMs`, a new delivery is also
   * leased and its attempt 1 logged as under way, for a first attempt made at once.
   */
  insert(d: NewDelivery, leaseMs?: number): Promise<Recorded> {
    return this.inserts.submit({ d, leaseMs });
  }

  /** Pending deliveries whose lease ran out: their worker died during an attempt. */
  async expiredLeases(limit: number): Promise<Pick<DeliveryRow, 'webhook_id' | 'round' | 'attempts'>[]> {
    return this.db.query(
      `SELECT webhook_id, round, attempts FROM deliveries
       WHERE state = 'pending' AND leased_until IS NOT NULL AND leased_until < now() ORDER BY leased_until LIMIT $1`,
      [limit],
    );
  }

  /** Ends leases that ran out (and only those: a worker may have leased one again meanwhile). */
  async clearExpiredLeases(webhookIds: string[]): Promise<void> {
    await this.db.query('UPDATE deliveries SET leased_until = NULL WHERE webhook_id = ANY($1) AND leased_until < now()', [webhookIds]);
  }

  /**
   * Takes the delivery for `leaseMs` unless another worker holds it: the row, or
   * `leased` if someone else is at it, or undefined if there is no such delivery.
   */
  lease(webhookId: string, leaseMs: number): Promise<DeliveryRow | 'leased' | undefined> {
    return this.leases.submit({ webhookId, leaseMs });
  }

  release(webhookId: string): Promise<void> {
    return this.releases.submit(webhookId);
  }

  /** Ends the leases of many deliveries at once (a replay's). */
  async releaseAll(webhookIds: string[]): Promise<void> {
    if (webhookIds.length > 0) await this.releaseNow(webhookIds);
  }

  /** Marks attempt `n` as under way; an attempt a crash interrupted is taken over, not counted twice. */
  startAttempt(d: DeliveryRow, n: number): Promise<void> {
    return this.starts.submit({ d, n });
  }

  /**
   * Logs the attempt's outcome, moves the delivery on and ends the lease: one statement,
   * so all or nothing. False when a replay started a new round during the attempt: the
   * attempt is logged, but the delivery stays as the replay left it (pending, its
   * schedule begun again), so the replay is not lost to the attempt's outcome. A
   * `next.report` is recorded as due in the same statement (only if the round is current).
   */
  finishAttempt(d: DeliveryRow, n: number, r: AttemptResult, next: Next): Promise<boolean> {
    return this.finishes.submit({ d, n, r, next });
  }

  private async insertNow(rs: ToRecord[]): Promise<Recorded[]> {
    const ds = rs.map((r) => r.d);
    // The last SELECT reads the table as it was before this statement: rows recorded
    // earlier, whose event hash tells the same event from another one under its id.
    const rows = await this.db.query<{ webhook_id: string; recorded: Recorded }[]>(
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[])
           AS v(webhook_id, hook_id, account_id, event_id, event_type, body, lease_ms, event_hash)
       ), recorded AS (
         INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, event_hash, leased_until)
         SELECT webhook_id, hook_id, account_id, event_id, event_type, body, event_hash, now() + make_interval(secs => lease_ms / 1000.0) FROM v
         ON CONFLICT (webhook_id) DO NOTHING
         RETURNING webhook_id, hook_id, leased_until
       ), started AS (
         INSERT INTO attempts (webhook_id, hook_id, attempt, status)
         SELECT webhook_id, hook_id, 1, 'pending' FROM recorded WHERE leased_until IS NOT NULL
       )
       SELECT webhook_id, 'new' AS recorded FROM recorded
       UNION ALL
       SELECT d.webhook_id, 'conflict' FROM deliveries d JOIN v USING (webhook_id) WHERE d.event_hash <> v.event_hash`,
      [
        ds.map((d) => d.webhook_id),
        ds.map((d) => d.hook_id),
        ds.map((d) => d.account_id),
        ds.map((d) => d.event_id),
        ds.map((d) => d.event_type),
        ds.map((d) => d.body),
        rs.map((r) => r.leaseMs ?? null),
        ds.map((d) => d.event_hash),
      ],
    );
    const fresh = new Set(rows.filter((r) => r.recorded === 'new').map((r) => r.webhook_id));
    const conflicting = new Set(rows.filter((r) => r.recorded === 'conflict').map((r) => r.webhook_id));
    // The same delivery twice in one batch (a redelivered load event): only the first is new.
    return ds.map((d) => (fresh.delete(d.webhook_id) ? 'new' : conflicting.has(d.webhook_id) ? 'conflict' : 'exists'));
  }

  private async leaseNow(ls: { webhookId: string; leaseMs: number }[]): Promise<(DeliveryRow | 'leased' | undefined)[]> {
    // The lease length is the same for every caller of one store; the longest asked wins.
    const leaseMs = Math.max(...ls.map((l) => l.leaseMs));
    const rows = await this.db.query<(DeliveryRow & { taken: boolean })[]>(
      `WITH taken AS (
         UPDATE deliveries SET leased_until = now() + make_interval(secs => $2 / 1000.0)
         WHERE webhook_id = ANY($1) AND (leased_until IS NULL OR leased_until < now()) RETURNING *
       )
       SELECT *, true AS taken FROM taken
       UNION ALL SELECT *, false AS taken FROM deliveries WHERE webhook_id = ANY($1) AND webhook_id NOT IN (SELECT webhook_id FROM taken)`,
      [ls.map((l) => l.webhookId), leaseMs],
    );
    const byId = new Map(rows.map((r) => [r.webhook_id, r]));
    return ls.map(({ webhookId }) => {
      const row = byId.get(webhookId);
      if (!row) return undefined;
      if (!row.taken) return 'leased';
      // The same delivery twice in one batch (a redelivered message): only the first takes it.
      byId.set(webhookId, { ...row, taken: false });
      return row;
    });
  }

  private async releaseNow(ids: string[]): Promise<void[]> {
    await this.db.query('UPDATE deliveries SET leased_until = NULL WHERE webhook_id = ANY($1)', [ids]);
    return ids.map(() => undefined);
  }

  private async startNow(ss: { d: DeliveryRow; n: number }[]): Promise<void[]> {
    await this.db.query(
      `INSERT INTO attempts (webhook_id, hook_id, attempt, status)
       SELECT webhook_id, hook_id, attempt, 'pending' FROM unnest($1::text[], $2::int[], $3::int[]) AS v(webhook_id, hook_id, attempt)
       ON CONFLICT (webhook_id, attempt) DO UPDATE SET status = 'pending', attempted_at = now()`,
      [ss.map((s) => s.d.webhook_id), ss.map((s) => s.d.hook_id), ss.map((s) => s.n)],
    );
    return ss.map(() => undefined);
  }

  private async finishNow(fs: Finish[]): Promise<boolean[]> {
    const rows = await this.db.query<[{ webhook_id: string; current: boolean }[], number]>(
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::text[], $10::int[], $11::text[])
           AS v(webhook_id, attempt, status, status_code, error, duration_ms, response_body, next_attempt_at, state, round, report)
       ), logged AS (
         UPDATE attempts a SET status = v.status, status_code = v.status_code, error = v.error, duration_ms = v.duration_ms, response_body = v.response_body, next_attempt_at = v.next_attempt_at
         FROM v WHERE a.webhook_id = v.webhook_id AND a.attempt = v.attempt
       )
       UPDATE deliveries d SET
         state = CASE WHEN d.round = v.round THEN v.state ELSE d.state END,
         round_attempts = CASE WHEN d.round = v.round THEN d.round_attempts + 1 ELSE d.round_attempts END,
         next_attempt_at = CASE WHEN d.round = v.round THEN v.next_attempt_at ELSE d.next_attempt_at END,
         report_due = CASE WHEN d.round = v.round THEN v.report ELSE d.report_due END,
         attempts = GREATEST(d.attempts, v.attempt), last_error = v.error, leased_until = NULL, updated_at = now()
       FROM v WHERE d.webhook_id = v.webhook_id
       RETURNING d.webhook_id, d.round = v.round AS current`,
      [
        fs.map((f) => f.d.webhook_id),
        fs.map((f) => f.n),
        fs.map((f) => (f.r.ok ? 'succeeded' : 'failed')),
        fs.map((f) => f.r.statusCode),
        fs.map((f) => f.r.error),
        fs.map((f) => Math.round(f.r.durationMs)),
        fs.map((f) => f.r.responseBody),
        fs.map((f) => f.next.nextAttemptAt),
        fs.map((f) => f.next.state),
        fs.map((f) => f.d.round),
        fs.map((f) => f.next.report ?? null),
      ],
    );
    // RETURNING shows the row after the update: `current` compares the new round (a
    // replay's, untouched here) with the attempt's.
    const current = new Map(rows[0].map((r) => [r.webhook_id, r.current]));
    return fs.map((f) => current.get(f.d.webhook_id) ?? false);
  }

  /**
   * Reports owed for longer than `olderThanMs` (the worker that recorded them publishes
   * them at once; these are the ones NOTIFY refused or a crash interrupted), oldest first.
   */
  async dueReports(olderThanMs: number, limit: number): Promise<DueReport[]> {
    return this.db.query(
      `SELECT d.*, a.status_code AS last_status_code FROM deliveries d
       LEFT JOIN attempts a ON a.webhook_id = d.webhook_id AND a.attempt = d.attempts
       WHERE d.report_due IS NOT NULL AND d.updated_at < now() - make_interval(secs => $1 / 1000.0)
       ORDER BY d.updated_at LIMIT $2`,
      [olderThanMs, limit],
    );
  }

  /** NOTIFY acknowledged the report of this round (a replay since has cleared it already). */
  async reported(webhookId: string, round: number): Promise<void> {
    await this.db.query('UPDATE deliveries SET report_due = NULL WHERE webhook_id = $1 AND round = $2', [webhookId, round]);
  }

  async cancel(webhookId: string, reason: string): Promise<void> {
    await this.db.query(`UPDATE deliveries SET state = 'cancelled', last_error = $2, next_attempt_at = NULL, leased_until = NULL, updated_at = now() WHERE webhook_id = $1 AND state = 'pending'`, [webhookId, reason]);
  }

  /**
   * Starts a new round of one delivery for a replay (its schedule begins again). See
   * `replay` for the lease; undefined if the account has no such delivery.
   */
  async newRound(webhookId: string, accountId: number, leaseMs: number): Promise<Replayed | undefined> {
    const [row] = await this.replay(`webhook_id = $1 AND account_id = $2`, [webhookId, accountId], leaseMs);
    return row;
  }

  /**
   * Starts a new round of each delivery of the hook that failed, or was cancelled (by a
   * disable, a downgrade, a deletion), since `since`: at most `limit`, oldest first. A
   * recovered delivery is pending again, so the next call takes the next page.
   */
  async recoverPage(hookId: number, accountId: number, since: Date, limit: number, leaseMs: number): Promise<{ replayed: Replayed[]; more: boolean }> {
    const where = `hook_id = $1 AND account_id = $2 AND state IN ('failed', 'cancelled') AND updated_at >= $3`;
    const replayed = await this.replay(`${where} ORDER BY updated_at, webhook_id LIMIT ${Number(limit)}`, [hookId, accountId, since], leaseMs);
    const [more] = await this.db.query<unknown[]>(`SELECT 1 FROM deliveries WHERE ${where} LIMIT 1`, [hookId, accountId, since]);
    return { replayed, more: more !== undefined };
  }

  /**
   * The new round of each selected delivery, leased for `leaseMs` unless an attempt holds
   * it: the caller queues the round's message, then releases what it leased. A crash in
   * between leaves a pending delivery with a lease, which the lease sweep hands to
   * DELIVERIES, instead of a pending delivery that no message will ever make.
   */
  private async replay(selection: string, params: unknown[], leaseMs: number): Promise<Replayed[]> {
    const [rows] = await this.db.query<[Replayed[], number]>(
      `WITH chosen AS (
         SELECT webhook_id, leased_until IS NULL OR leased_until < now() AS leased FROM deliveries WHERE ${selection} FOR UPDATE
       )
       UPDATE deliveries d SET round = d.round + 1, round_attempts = 0, state = 'pending', next_attempt_at = NULL, report_due = NULL, updated_at = now(),
         leased_until = CASE WHEN chosen.leased THEN now() + make_interval(secs => $${params.length + 1} / 1000.0) ELSE d.leased_until END
       FROM chosen WHERE d.webhook_id = chosen.webhook_id
       RETURNING d.webhook_id, d.round, chosen.leased`,
      [...params, leaseMs],
    );
    return rows;
  }
}

/** A delivery a replay started a new round of; `leased` if the replay holds its lease (no attempt did). */
export interface Replayed {
  webhook_id: string;
  round: number;
  leased: boolean;
}
