import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EmailNotifierEnv } from '@posthooks/config';
import { HookUndeliverableEvent } from '@posthooks/contracts';
import { DataSource, EntityManager } from 'typeorm';
import { DIGEST_SAMPLES, DigestContent } from '../email/email-content';

export type RecordOutcome = 'emailed' | 'folded' | 'opted_out' | 'duplicate';

interface WindowRow {
  hook_id: number;
  opened_at: Date;
  closes_at: Date;
  emailed: number;
  folded: number;
  digest_id: string | null;
  /** The window has ended: the next event opens a new one. */
  closed: boolean;
  /** It ended less than a window ago: a flood that goes on. */
  recent: boolean;
}

/**
 * Records a hook.undeliverable event and decides what it becomes, in one transaction,
 * before the message is acked:
 *
 * - its key (the message's Nats-Msg-Id) is inserted first: a redelivered message, or a
 *   second copy the stream did not de-duplicate, finds it and changes nothing;
 * - an account that opted out gets nothing (the event is still recorded);
 * - otherwise the hook's digest window decides: the first EMAIL_DIGEST_AFTER events of
 *   a window each get an email (a row in the outbox, due now); the rest are folded into
 *   the window's one digest, due when the window ends. A window that opens less than a
 *   window after one that folded events (the flood goes on) sends only its digest.
 *
 * The hook's window row is locked for the decision, so concurrent handlers and
 * replicas count each event once.
 */
@Injectable()
export class UndeliverableRecorder {
  private readonly domain: string;

  constructor(
    private readonly db: DataSource,
    @Inject(EmailNotifierEnv) private readonly env: EmailNotifierEnv,
  ) {
    this.domain = /@([A-Za-z0-9.-]+)/.exec(env.EMAIL_FROM)?.[1] ?? 'posthooks.local';
  }

  record(key: string, e: HookUndeliverableEvent, optedIn: boolean): Promise<RecordOutcome> {
    return this.db.transaction(async (m) => {
      const fresh = await m.query<unknown[]>(
        `INSERT INTO undeliverable_events (event_key, account_id, hook_id, webhook_id, event_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (event_key) DO NOTHING RETURNING event_key`,
        [key, e.client_id, e.hook_id, e.webhook_id, e.event_id],
      );
      if (fresh.length === 0) return 'duplicate';
      const { outcome, emailId } = optedIn ? await this.throughWindow(m, e) : { outcome: 'opted_out' as const, emailId: null };
      await m.query('UPDATE undeliverable_events SET outcome = $2, email_id = $3 WHERE event_key = $1', [key, outcome, emailId]);
      return outcome;
    });
  }

  private async throughWindow(m: EntityManager, e: HookUndeliverableEvent): Promise<{ outcome: 'emailed' | 'folded'; emailId: string }> {
    await m.query(`INSERT INTO hook_windows (hook_id, opened_at, closes_at) VALUES ($1, '-infinity', '-infinity') ON CONFLICT (hook_id) DO NOTHING`, [e.hook_id]);
    const [locked] = await m.query<WindowRow[]>(
      `SELECT *, clock_timestamp() >= closes_at AS closed, clock_timestamp() < closes_at + $2 * interval '1 millisecond' AS recent
       FROM hook_windows WHERE hook_id = $1 FOR UPDATE`,
      [e.hook_id, this.env.EMAIL_DIGEST_WINDOW_MS],
    );
    let w = locked;
    for (;;) {
      if (w.closed) w = await this.openWindow(m, e.hook_id, w.folded > 0 && w.recent);
      if (w.emailed < this.env.EMAIL_DIGEST_AFTER) {
        const [{ id }] = await m.query<{ id: string }[]>(
          `INSERT INTO emails (message_id, kind, account_id, hook_id, content) VALUES ($1, 'undeliverable', $2, $3, $4) RETURNING id`,
          [this.messageId(), e.client_id, e.hook_id, JSON.stringify(e)],
        );
        await m.query('UPDATE hook_windows SET emailed = emailed + 1 WHERE hook_id = $1', [e.hook_id]);
        return { outcome: 'emailed', emailId: id };
      }
      if (w.digest_id === null) {
        const content: DigestContent = { url: e.url, window_opened_at: w.opened_at.toISOString(), window_closes_at: w.closes_at.toISOString(), samples: [e], latest: e };
        // Due exactly when the window ends (its own closes_at, not a rounded copy).
        const [{ id }] = await m.query<{ id: string }[]>(
          `INSERT INTO emails (message_id, kind, account_id, hook_id, content, folded, next_attempt_at)
           SELECT $1, 'digest', $2, hook_id, $3, 1, closes_at FROM hook_windows WHERE hook_id = $4 RETURNING id`,
          [this.messageId(), e.client_id, JSON.stringify(content), e.hook_id],
        );
        await m.query('UPDATE hook_windows SET folded = folded + 1, digest_id = $2 WHERE hook_id = $1', [e.hook_id, id]);
        return { outcome: 'folded', emailId: id };
      }
      const [, folded] = await m.query<[unknown[], number]>(
        `UPDATE emails SET folded = folded + 1,
           content = jsonb_set(content, '{latest}', $2::jsonb)
             || CASE WHEN jsonb_array_length(content->'samples') < $3 THEN jsonb_build_object('samples', content->'samples' || jsonb_build_array($2::jsonb)) ELSE '{}'::jsonb END
         WHERE id = $1 AND state = 'pending'`,
        [w.digest_id, JSON.stringify(e), DIGEST_SAMPLES],
      );
      if (folded > 0) {
        await m.query('UPDATE hook_windows SET folded = folded + 1 WHERE hook_id = $1', [e.hook_id]);
        return { outcome: 'folded', emailId: w.digest_id };
      }
      // The window's digest was claimed for sending in the instant since we checked the
      // window: this event belongs to the next window, a flood that goes on.
      w = { ...w, closed: true, recent: true, folded: Math.max(w.folded, 1) };
    }
  }

  /** Starts the hook's next window; one that continues a flood has no individual emails left. */
  private async openWindow(m: EntityManager, hookId: number, continuesFlood: boolean): Promise<WindowRow> {
    const [[row]] = await m.query<[WindowRow[], number]>(
      `UPDATE hook_windows SET opened_at = clock_timestamp(), closes_at = clock_timestamp() + $2 * interval '1 millisecond', emailed = $3, folded = 0, digest_id = NULL
       WHERE hook_id = $1 RETURNING *, false AS closed, true AS recent`,
      [hookId, this.env.EMAIL_DIGEST_WINDOW_MS, continuesFlood ? this.env.EMAIL_DIGEST_AFTER : 0],
    );
    return row;
  }

  /** Fixed now, stored with the email: every (re)send of it carries this Message-ID. */
  private messageId(): string {
    return `<${randomUUID()}@${this.domain}>`;
  }
}
