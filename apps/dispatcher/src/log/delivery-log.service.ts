import { Injectable } from '@nestjs/common';
import { RegistryView } from '@posthooks/registry-view';
import { notFound } from '@posthooks/runtime';
import { DataSource } from 'typeorm';
import { DeliveryScheduler } from '../delivery/delivery-scheduler';
import { DeliveryStore } from '../delivery/delivery-store';
import { ListAttemptsQuery, ListDeliveriesQuery } from './delivery-log.dto';

/** Deliveries one recover call re-sends at most (SPEC §10). */
export const RECOVER_PAGE = 10_000;
interface AttemptRow {
  id: string;
  attempted_us: string;
  event_id: string;
  event_type: string;
  webhook_id: string;
  attempt: number;
  status: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  response_body: string | null;
  attempted_at: Date;
  next_attempt_at: Date | null;
}

interface UndeliveredRow {
  created_us: string;
  webhook_id: string;
  hook_id: number;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  next_attempt_at: Date | null;
}

@Injectable()
export class DeliveryLogService {
  constructor(
    private readonly db: DataSource,
    private readonly store: DeliveryStore,
    private readonly view: RegistryView,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  /**
   * Attempts of one of the caller's hooks, newest first: by `attempted_at`, then by id
   * (rows are not written in time order), a page at a time. The cursor is the last
   * attempt's place in that order, to the microsecond Postgres keeps.
   */
  async list(accountId: number, hookId: number, q: ListAttemptsQuery) {
    await this.assertOwnHook(accountId, hookId);
    const limit = q.limit ?? 50;
    const [afterMicros, afterId] = q.cursor ? q.cursor.split('-') : [null, null];
    const rows = await this.db.query<AttemptRow[]>(
      // The page is cut before the join, so Postgres walks attempts_hook_time for just that
      // many rows whatever its statistics say (joined first, an unanalyzed table made it
      // join every attempt of the hook: 33 -> 400 ms over bench:soak's 10 minutes).
      `SELECT a.id, (extract(epoch FROM a.attempted_at) * 1000000)::bigint AS attempted_us, d.event_id, d.event_type, a.webhook_id, a.attempt, a.status,
         a.status_code, a.error, a.duration_ms, a.response_body, a.attempted_at, a.next_attempt_at,
         -- Ours beyond SPEC §5: which integration and table the webhook was about (null for a ping).
         b.body ->> 'integration_name' AS integration_name,
         coalesce(b.body ->> 'source_root_table_name', b.body #>> '{tables,0,source_table_name}') AS table_name
       FROM (
         SELECT * FROM attempts
         WHERE hook_id = $1 AND ($3::text IS NULL OR status = $3)
           AND ($4::bigint IS NULL OR (attempted_at, id) < (timestamptz 'epoch' + $4::bigint * interval '1 microsecond', $5::bigint))
         ORDER BY attempted_at DESC, id DESC LIMIT $6
       ) a JOIN deliveries d USING (webhook_id)
       CROSS JOIN LATERAL (SELECT d.body::jsonb AS body) b
       WHERE d.account_id = $2
       ORDER BY a.attempted_at DESC, a.id DESC`,
      [hookId, accountId, q.status ?? null, afterMicros, afterId, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      data: page.map(({ id: _id, attempted_us: _us, attempted_at, next_attempt_at, ...a }) => ({ ...a, attempted_at: attempted_at.toISOString(), next_attempt_at: next_attempt_at?.toISOString() ?? null })),
      next_cursor: rows.length > limit ? `${last.attempted_us}-${last.id}` : null,
    };
  }

  /**
   * The undelivered view (SPEC §5): the account's deliveries in one state (default
   * failed) across its hooks, newest first by `created_at`, then by webhook id (rows
   * created in the same microsecond), a page at a time over deliveries_undelivered.
   */
  async undelivered(accountId: number, q: ListDeliveriesQuery) {
    if (q.hook_id !== undefined) await this.assertOwnHook(accountId, q.hook_id);
    const limit = q.limit ?? 50;
    const [afterMicros, afterId] = q.cursor ? [q.cursor.slice(0, q.cursor.indexOf('-')), q.cursor.slice(q.cursor.indexOf('-') + 1)] : [null, null];
    const rows = await this.db.query<UndeliveredRow[]>(
      `SELECT (extract(epoch FROM created_at) * 1000000)::bigint AS created_us, webhook_id, hook_id, event_id, event_type, state AS status, attempts, last_error, created_at, next_attempt_at
       FROM deliveries
       WHERE account_id = $1 AND state = $2 AND state IN ('failed', 'pending', 'cancelled')
         AND ($3::int IS NULL OR hook_id = $3)
         AND ($4::timestamptz IS NULL OR created_at >= $4)
         AND ($5::bigint IS NULL OR (created_at, webhook_id) < (timestamptz 'epoch' + $5::bigint * interval '1 microsecond', $6::text))
       ORDER BY created_at DESC, webhook_id DESC LIMIT $7`,
      [accountId, q.status ?? 'failed', q.hook_id ?? null, q.since ? new Date(q.since) : null, afterMicros, afterId, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      data: page.map(({ created_us: _us, created_at, next_attempt_at, ...d }) => ({ ...d, created_at: created_at.toISOString(), next_attempt_at: next_attempt_at?.toISOString() ?? null })),
      next_cursor: rows.length > limit ? `${last.created_us}-${last.webhook_id}` : null,
    };
  }

  async redeliver(accountId: number, webhookId: string) {
    const replayed = await this.store.newRound(webhookId, accountId);
    if (replayed === undefined) throw notFound();
    this.scheduler.wake();
    return { webhook_id: webhookId, round: replayed.round };
  }

  /**
   * Re-sends every event to the hook whose delivery failed, or was cancelled by a disable
   * or a downgrade, since then: at most RECOVER_PAGE per call, `more` if others are left
   * (the next call with the same `since` takes them).
   */
  async recover(accountId: number, hookId: number, since: Date) {
    await this.assertOwnHook(accountId, hookId);
    const { replayed, more } = await this.store.recoverPage(hookId, accountId, since, RECOVER_PAGE);
    this.scheduler.wake();
    return { recovered: replayed.length, more };
  }

  /** A hook the caller does not own is as unknown as one that does not exist. */
  private async assertOwnHook(accountId: number, hookId: number): Promise<void> {
    const hook = this.view.hooks.get(hookId);
    if (hook) {
      if (hook.account_id !== accountId) throw notFound();
      return;
    }
    const [known] = await this.db.query('SELECT 1 FROM deliveries WHERE hook_id = $1 AND account_id = $2 LIMIT 1', [hookId, accountId]);
    if (!known) throw notFound();
  }
}
