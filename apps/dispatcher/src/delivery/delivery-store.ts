import { Injectable } from '@nestjs/common';
import { StatementBatcher } from '@posthooks/persistence';
import { DataSource } from 'typeorm';
import { ClaimPlan } from './fair-share';
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

/** A delivery a claim took: leased to this replica, its attempt `attempt` logged as under way. */
export type Claimed = DeliveryRow & { attempt: number };

/** What a claim may take (FairShare's plan) and for how long. */
export type Claim = ClaimPlan & { leaseMs: number };

/**
 * The dispatcher's Postgres: deliveries and the log of their attempts. A delivery
 * waiting for an attempt is a `pending` row with its `next_attempt_at`; `claim` hands
 * the ones that came due to a replica, leased for as long as an attempt can take, and
 * an attempt's outcome ends the lease. A replica that dies holding a lease holds it no
 * longer than that: the row is due again and any replica's next claim takes it.
 * The writes on the path of every delivery (record, finish) are batched across
 * concurrent callers: one statement per batch, each row's outcome its own.
 */
@Injectable()
export class DeliveryStore {
  private readonly inserts = new StatementBatcher<NewDelivery, Recorded>((ds) => this.insertNow(ds));
  private readonly finishes = new StatementBatcher<Finish, boolean>((fs) => this.finishNow(fs));
  private readonly givebacks = new StatementBatcher<Claimed>((cs) => this.giveBackNow(cs));

  constructor(private readonly db: DataSource) {}

  /**
   * Records a new delivery, due at once: `new`, or `exists` if it was recorded already (a
   * redelivered load event), or `conflict` if it was, from an event with the same id but
   * another body; an existing delivery is left as it is.
   */
  insert(d: NewDelivery): Promise<Recorded> {
    return this.inserts.submit(d);
  }

  /**
   * Leases the deliveries that came due, fairly: each hook with pending deliveries is its
   * own lane (its oldest due ones first, at most `perHook`), then the lanes' rows are
   * taken round by round across accounts (every account's first, then every account's
   * second...), each account up to its room, `limit` in all. Rows another replica holds
   * are skipped, not waited for. Each claimed row's next attempt is logged as under way
   * in the same statement (an attempt a crash interrupted is taken over, same number).
   *
   * The lanes are found by walking the pending index one hook at a time (a loose index
   * scan), so a claim costs in the number of hooks with pending deliveries, not in the
   * number of deliveries waiting: 10,000 waiting retries of one dead endpoint are one lane.
   * The walk starts only if some delivery is due and free at all (one probe of the due
   * time index), so a replica polling while nothing is due costs Postgres next to nothing.
   */
  async claim(c: Claim): Promise<Claimed[]> {
    return this.db.query<Claimed[]>(
      `WITH RECURSIVE lanes(hook_id) AS (
         SELECT min(hook_id) FROM deliveries WHERE state = 'pending'
           AND EXISTS (SELECT 1 FROM deliveries WHERE state = 'pending' AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now()))
         UNION ALL
         SELECT (SELECT min(d.hook_id) FROM deliveries d WHERE d.state = 'pending' AND d.hook_id > lanes.hook_id) FROM lanes WHERE lanes.hook_id IS NOT NULL
       ), due AS (
         SELECT t.* FROM lanes CROSS JOIN LATERAL (
           SELECT d.webhook_id, d.account_id, d.next_attempt_at FROM deliveries d
           WHERE d.state = 'pending' AND d.hook_id = lanes.hook_id AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
           ORDER BY d.next_attempt_at LIMIT $2
           FOR UPDATE SKIP LOCKED
         ) t
         WHERE lanes.hook_id IS NOT NULL AND lanes.hook_id <> ALL($6::int[])
       ), ranked AS (
         SELECT due.*, row_number() OVER (PARTITION BY account_id ORDER BY next_attempt_at) AS turn FROM due
       ), chosen AS (
         SELECT r.webhook_id FROM ranked r LEFT JOIN unnest($3::int[], $4::int[]) AS room(account_id, room) USING (account_id)
         WHERE r.turn <= COALESCE(room.room, $5)
         ORDER BY r.turn, r.next_attempt_at LIMIT $1
       ), claimed AS (
         UPDATE deliveries d SET leased_until = now() + make_interval(secs => $7 / 1000.0)
         FROM chosen WHERE d.webhook_id = chosen.webhook_id
         RETURNING d.*, d.attempts + 1 AS attempt
       ), started AS (
         INSERT INTO attempts (webhook_id, hook_id, attempt, status)
         SELECT webhook_id, hook_id, attempt, 'pending' FROM claimed
         ON CONFLICT (webhook_id, attempt) DO UPDATE SET status = 'pending', attempted_at = now()
       )
       SELECT * FROM claimed`,
      [c.limit, c.perHook, c.accounts, c.rooms, c.accountRoom, c.skipHooks, c.leaseMs],
    );
  }

  /**
   * Gives claimed deliveries back without an attempt (their host had no slot in time):
   * due as they were, their attempt no longer under way.
   */
  giveBack(c: Claimed): Promise<void> {
    return this.givebacks.submit(c);
  }

  /**
   * Logs the attempt's outcome, moves the delivery on and ends the lease: one statement,
   * so all or nothing. False when a replay started a new round during the attempt: the
   * attempt is logged, but the delivery stays as the replay left it (pending, due, its
   * schedule begun again), so the replay is not lost to the attempt's outcome. A
   * `next.report` is recorded as due in the same statement (only if the round is current).
   */
  finishAttempt(d: DeliveryRow, n: number, r: AttemptResult, next: Next): Promise<boolean> {
    return this.finishes.submit({ d, n, r, next });
  }

  /**
   * Ends a claimed delivery without an attempt: `cancelled` (its hook may no longer be
   * sent to), or `failed` with an undeliverable report due (its round has no attempt left).
   * Its attempt is no longer under way. False if a replay started a new round meanwhile.
   */
  async endWithoutAttempt(c: Claimed, end: { state: 'cancelled'; reason: string } | { state: 'failed'; report: ReportKind }): Promise<boolean> {
    // The lease ends either way; the state only if no replay started a new round meanwhile.
    const [rows] = await this.db.query<[{ current: boolean }[], number]>(
      `WITH unstarted AS (
         DELETE FROM attempts WHERE webhook_id = $1 AND attempt = $2 AND status = 'pending'
       )
       UPDATE deliveries SET leased_until = NULL,
         state = CASE WHEN round = $3 THEN $4 ELSE state END,
         last_error = CASE WHEN round = $3 THEN COALESCE($5, last_error) ELSE last_error END,
         report_due = CASE WHEN round = $3 THEN $6 ELSE report_due END,
         next_attempt_at = CASE WHEN round = $3 THEN NULL ELSE next_attempt_at END,
         updated_at = now()
       WHERE webhook_id = $1 AND state = 'pending'
       RETURNING round = $3 AS current`,
      [c.webhook_id, c.attempt, c.round, end.state, end.state === 'cancelled' ? end.reason : null, end.state === 'failed' ? end.report : null],
    );
    return rows[0]?.current ?? false;
  }

  private async insertNow(ds: NewDelivery[]): Promise<Recorded[]> {
    // The last SELECT reads the table as it was before this statement: rows recorded
    // earlier, whose event hash tells the same event from another one under its id.
    const rows = await this.db.query<{ webhook_id: string; recorded: Recorded }[]>(
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS v(webhook_id, hook_id, account_id, event_id, event_type, body, event_hash)
       ), recorded AS (
         INSERT INTO deliveries (webhook_id, hook_id, account_id, event_id, event_type, body, event_hash, next_attempt_at)
         SELECT webhook_id, hook_id, account_id, event_id, event_type, body, event_hash, now() FROM v
         ON CONFLICT (webhook_id) DO NOTHING
         RETURNING webhook_id
       )
       SELECT webhook_id, 'new' AS recorded FROM recorded
       UNION ALL
       SELECT d.webhook_id, 'conflict' FROM deliveries d JOIN v USING (webhook_id) WHERE d.event_hash <> v.event_hash`,
      [ds.map((d) => d.webhook_id), ds.map((d) => d.hook_id), ds.map((d) => d.account_id), ds.map((d) => d.event_id), ds.map((d) => d.event_type), ds.map((d) => d.body), ds.map((d) => d.event_hash)],
    );
    const fresh = new Set(rows.filter((r) => r.recorded === 'new').map((r) => r.webhook_id));
    const conflicting = new Set(rows.filter((r) => r.recorded === 'conflict').map((r) => r.webhook_id));
    // The same delivery twice in one batch (a redelivered load event): only the first is new.
    return ds.map((d) => (fresh.delete(d.webhook_id) ? 'new' : conflicting.has(d.webhook_id) ? 'conflict' : 'exists'));
  }

  private async giveBackNow(cs: Claimed[]): Promise<void[]> {
    await this.db.query(
      `WITH v AS (SELECT * FROM unnest($1::text[], $2::int[]) AS v(webhook_id, attempt)), unstarted AS (
         DELETE FROM attempts a USING v WHERE a.webhook_id = v.webhook_id AND a.attempt = v.attempt AND a.status = 'pending'
       )
       UPDATE deliveries d SET leased_until = NULL FROM v WHERE d.webhook_id = v.webhook_id`,
      [cs.map((c) => c.webhook_id), cs.map((c) => c.attempt)],
    );
    return cs.map(() => undefined);
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

  /**
   * Starts a new round of one delivery for a replay: due now, its schedule begun again.
   * Undefined if the account has no such delivery.
   */
  async newRound(webhookId: string, accountId: number): Promise<Replayed | undefined> {
    const [row] = await this.replay(`webhook_id = $1 AND account_id = $2`, [webhookId, accountId]);
    return row;
  }

  /**
   * Starts a new round of each delivery of the hook that failed, or was cancelled (by a
   * disable, a downgrade, a deletion), since `since`: at most `limit`, oldest first, in
   * one statement. A recovered delivery is pending again, so the next call takes the next page.
   */
  async recoverPage(hookId: number, accountId: number, since: Date, limit: number): Promise<{ replayed: Replayed[]; more: boolean }> {
    const where = `hook_id = $1 AND account_id = $2 AND state IN ('failed', 'cancelled') AND updated_at >= $3`;
    const replayed = await this.replay(`webhook_id IN (SELECT webhook_id FROM deliveries WHERE ${where} ORDER BY updated_at, webhook_id LIMIT ${Number(limit)})`, [hookId, accountId, since]);
    const [more] = await this.db.query<unknown[]>(`SELECT 1 FROM deliveries WHERE ${where} LIMIT 1`, [hookId, accountId, since]);
    return { replayed, more: more !== undefined };
  }

  /**
   * The new round of each selected delivery, due now. An attempt under way keeps its
   * lease: its outcome is logged but leaves the new round as it is (finishAttempt), and
   * the next claim after it makes the new round's first attempt.
   */
  private async replay(selection: string, params: unknown[]): Promise<Replayed[]> {
    const [rows] = await this.db.query<[Replayed[], number]>(
      `UPDATE deliveries SET round = round + 1, round_attempts = 0, state = 'pending', next_attempt_at = now(), report_due = NULL, updated_at = now()
       WHERE ${selection}
       RETURNING webhook_id, round`,
      params,
    );
    return rows;
  }
}

/** A delivery a replay started a new round of. */
export interface Replayed {
  webhook_id: string;
  round: number;
}
