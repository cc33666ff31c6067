import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { StatementBatcher } from '@posthooks/persistence';
import { RegistryView } from '@posthooks/registry-view';
import { PeriodicTask } from '@posthooks/runtime';
import type { PoolClient, QueryResult } from 'pg';
import { DataSource } from 'typeorm';
import { deliveriesThrottled } from '../metrics';
import { Claimed, DeliveryStore } from './delivery-store';
import { admit, COUNTS_FOR_MS, rateLimitOf } from './throttle-decisions';

/** A claimed delivery of a throttled hook cleared to go in `delayMs`, and its entry in its hook's log of sends. */
export interface Cleared {
  delivery: Claimed;
  ticket: string;
  delayMs: number;
}

/** The hooks' claimed deliveries sorted: those to start now, and those of throttled hooks, by hook, to ask HookThrottle about. */
export interface Sorted {
  free: Claimed[];
  limited: Map<number, { limit: number; deliveries: Claimed[] }>;
}

/** How often sends of hooks no longer throttled (or deleted) are removed; a decision removes its own hook's old ones. */
const SWEEP_MS = 60_000;
/** Two-key advisory locks: this key, then the hook id (another key space than the one-key locks of migrations). */
const LOCK_KEY = 'posthooks:dispatcher:hook_sends';

/**
 * Keeps each hook under its `rate_limit_per_s` across every replica (throttle-decisions.ts
 * says why this holds at the receiver). The log of a throttled hook's sends is shared in
 * Postgres (`hook_sends`, a row per send: `ends_by` is when its lease ends while it is
 * under way, when its answer came once it is answered). Each claim's deliveries of a
 * throttled hook are decided in one short transaction under the hook's advisory lock, so
 * replicas take turns: as many as the limit leaves room for go, now or at the moment a
 * logged send stops counting (held here until then, at most a second); the rest are given
 * back to Postgres due as they were (their order kept, no attempt counted) and this
 * replica's claims skip the hook for half a window, then ask again. Hooks without a limit
 * never come here: no query, no row.
 */
@Injectable()
export class HookThrottle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('HookThrottle');
  /** Hooks this replica's claims skip, until when (Date.now()): their window was full. */
  private readonly blocked = new Map<number, number>();
  /** Hooks a decision of this replica is under way for: a claim meanwhile would only queue on the same lock. */
  private readonly deciding = new Set<number>();
  private readonly ends = new StatementBatcher<End>((es) => this.endNow(es));
  private readonly sweeper = new PeriodicTask('hook_sends sweep', this.log, () => this.sweep());
  /** When a failure to record an end was last logged: once a minute in an outage. */
  private loggedAt = 0;

  constructor(
    private readonly db: DataSource,
    private readonly view: RegistryView,
    private readonly store: DeliveryStore,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper.start(SWEEP_MS);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweeper.stop();
  }

  /** Hooks whose deliveries this replica's claims leave waiting now: being decided here, or blocked and still throttled. */
  blockedHooks(): number[] {
    const now = Date.now();
    const hooks = [...this.deciding];
    for (const [hook, until] of this.blocked) {
      if (until <= now || rateLimitOf(this.view.hooks.get(hook)) === null) this.blocked.delete(hook);
      else hooks.push(hook);
    }
    return hooks;
  }

  /** Sorts claimed deliveries by whether their hook has a limit now (the view's current settings). */
  sort(claimed: Claimed[]): Sorted {
    const sorted: Sorted = { free: [], limited: new Map() };
    for (const c of claimed) {
      const limit = rateLimitOf(this.view.hooks.get(c.hook_id));
      if (limit === null) {
        sorted.free.push(c);
        continue;
      }
      let lane = sorted.limited.get(c.hook_id);
      if (!lane) sorted.limited.set(c.hook_id, (lane = { limit, deliveries: [] }));
      lane.deliveries.push(c);
    }
    return sorted;
  }

  /**
   * Decides each throttled hook's claimed deliveries (oldest due first) and gives back
   * those that may not go within the next second. Resolves with the ones to send, each with
   * its ticket (tell `sent` or `unused`) and when it may leave, and when to claim again for
   * a hook blocked here (ms), if any. A hook whose decision fails (Postgres away) sends
   * nothing: its deliveries are given back, or, if that fails too, claimed again once
   * their lease runs out.
   */
  async clear(limited: Sorted['limited'], leaseMs: number): Promise<{ cleared: Cleared[]; wakeInMs: number | null }> {
    const cleared: Cleared[] = [];
    let wakeInMs: number | null = null;
    await Promise.all(
      [...limited].map(async ([hookId, { limit, deliveries }]) => {
        deliveries.sort(dueFirst);
        let going: { ticket: string; delayMs: number }[] = [];
        this.deciding.add(hookId);
        try {
          try {
            const decided = await this.decide(hookId, limit, deliveries.length, leaseMs);
            going = decided.cleared;
            if (decided.retryInMs !== null) {
              this.blocked.set(hookId, Date.now() + decided.retryInMs);
              wakeInMs = Math.min(wakeInMs ?? Infinity, decided.retryInMs);
            }
          } catch (err) {
            this.log.warn(`rate limit of hook ${hookId} not decided (${(err as Error).message}); its ${deliveries.length} deliveries are given back`);
          }
          going.forEach((g, i) => cleared.push({ delivery: deliveries[i], ...g }));
          const waiting = deliveries.slice(going.length);
          if (waiting.length > 0) deliveriesThrottled.inc(waiting.length);
          await Promise.all(waiting.map((c) => this.store.giveBack(c).catch(() => undefined)));
        } finally {
          this.deciding.delete(hookId);
        }
      }),
    );
    return { cleared, wakeInMs };
  }

  /** The send of this ticket is over (answered, failed or timed out): it counts COUNTS_FOR_MS from now on. */
  sent(ticket: string): void {
    this.end({ ticket, answeredAt: performance.now() });
  }

  /** The delivery of this ticket was not sent after all (cancelled, its host busy): it does not count. */
  unused(ticket: string): void {
    this.end({ ticket, answeredAt: null });
  }

  /**
   * One transaction per hook: its advisory lock makes replicas decide one after another,
   * each seeing what the others logged. Sends that no longer count are removed on the way.
   * Two round trips (lock and read; log and commit), the lock held for one: several
   * statements in one simple-protocol query each take their own snapshot, so the read sees
   * what the lock's previous holder committed. Simple protocol takes no parameters: only
   * numbers are written into it, checked as such.
   */
  private async decide(hookId: number, limit: number, wanted: number, leaseMs: number): Promise<{ cleared: { ticket: string; delayMs: number }[]; retryInMs: number | null }> {
    const runner = this.db.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    try {
      const hook = integer(hookId);
      // clock_timestamp(), not now(): the time after the lock was granted.
      const [, , read] = (await client.query(
        `BEGIN;
         SELECT pg_advisory_xact_lock(hashtext('${LOCK_KEY}'), ${hook});
         WITH t AS (SELECT clock_timestamp() AS now), old AS (
           DELETE FROM hook_sends s USING t WHERE s.hook_id = ${hook} AND s.ends_by <= t.now - interval '${integer(COUNTS_FOR_MS)} milliseconds'
         )
         SELECT count(s.id) FILTER (WHERE s.ends_by > t.now)::int AS under_way,
           COALESCE(array_agg(extract(epoch FROM t.now - s.ends_by) * 1000) FILTER (WHERE s.ends_by <= t.now), '{}')::float8[] AS answered_ago_ms
         FROM t LEFT JOIN hook_sends s ON s.hook_id = ${hook} AND s.ends_by > t.now - interval '${integer(COUNTS_FOR_MS)} milliseconds'
         GROUP BY t.now`,
      )) as unknown as QueryResult<{ under_way: number; answered_ago_ms: number[] }>[];
      const [row] = read.rows;
      const { delaysMs, retryInMs } = admit({ underWay: row.under_way, answeredAgoMs: row.answered_ago_ms }, limit, wanted);
      if (delaysMs.length === 0) {
        await client.query('COMMIT');
        return { cleared: [], retryInMs };
      }
      // Under way from the time each may leave until its lease ends (clock_timestamp() here is later than the decision's: later ends only).
      const [logged] = (await client.query(
        `INSERT INTO hook_sends (hook_id, ends_by)
         SELECT ${hook}, clock_timestamp() + make_interval(secs => (d + ${integer(leaseMs)}) / 1000.0) FROM unnest('{${delaysMs.map(integer).join(',')}}'::float8[]) AS d
         RETURNING id, ends_by;
         COMMIT`,
      )) as unknown as QueryResult<{ id: string; ends_by: Date }>[];
      // Each delay (ascending) with the row whose lease it sets.
      const sends = logged.rows.sort((a, b) => a.ends_by.getTime() - b.ends_by.getTime());
      return { cleared: sends.map((s, i) => ({ ticket: String(s.id), delayMs: delaysMs[i] })), retryInMs };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  private end(e: End): void {
    this.ends.submit(e).catch((err: Error) => {
      // The send then counts until its lease ends: later sends wait longer, none goes sooner.
      if (Date.now() - this.loggedAt < 60_000) return;
      this.loggedAt = Date.now();
      this.log.warn(`end of a throttled send not recorded (${err.message}); it counts until its lease ends`);
    });
  }

  /**
   * An answer's time in Postgres's clock: now() (this statement's start, after it was sent)
   * less how long before sending it the answer came, as this process measured it. Never
   * earlier than the answer, and without the time the write waited for its batch.
   */
  private async endNow(es: End[]): Promise<void[]> {
    const at = performance.now();
    await this.db.query(
      `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::float8[]) AS v(id, ago_ms)), unused AS (
         DELETE FROM hook_sends s USING v WHERE s.id = v.id AND v.ago_ms IS NULL
       )
       UPDATE hook_sends s SET ends_by = now() - make_interval(secs => v.ago_ms / 1000.0) FROM v WHERE s.id = v.id AND v.ago_ms IS NOT NULL`,
      [es.map((e) => e.ticket), es.map((e) => (e.answeredAt === null ? null : Math.max(0, at - e.answeredAt)))],
    );
    return es.map(() => undefined);
  }

  /** Removes sends that no longer count, of every hook (a hook no longer throttled or deleted is decided no more). */
  async sweep(): Promise<number> {
    const [, removed] = await this.db.query<[unknown[], number]>(`DELETE FROM hook_sends WHERE ends_by <= now() - make_interval(secs => $1 / 1000.0)`, [COUNTS_FOR_MS]);
    return removed;
  }
}

/** A ticket's send answered (when, by performance.now()), or not made (null). */
interface End {
  ticket: string;
  answeredAt: number | null;
}

/** A number written into SQL: an integer, or the statement is not sent. */
function integer(n: number): number {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return n;
}

function dueFirst(a: Claimed, b: Claimed): number {
  // A pending delivery always has a due time (pending_is_due); created_at orders the rest.
  return (a.next_attempt_at?.getTime() ?? 0) - (b.next_attempt_at?.getTime() ?? 0) || a.created_at.getTime() - b.created_at.getTime() || (a.webhook_id < b.webhook_id ? -1 : 1);
}
