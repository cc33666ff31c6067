import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Subjects } from '@posthooks/contracts';
import { EventPublisher } from '@posthooks/messaging';
import { RegistryView } from '@posthooks/registry-view';
import { PeriodicTask } from '@posthooks/runtime';
import { DeliveryRow, DeliveryStore, ReportKind } from './delivery-store';

/** How often reports NOTIFY has not acknowledged are published again. */
export const REPORT_SWEEP_INTERVAL_MS = 5000;
/** A report younger than this is left to the worker that recorded it (it publishes at once). */
const REPORT_GRACE_MS = 2000;
const BATCH = 500;

/** A delivery whose final state owes `kind`, with what the report tells. */
export interface Report {
  d: DeliveryRow;
  kind: ReportKind;
  lastStatusCode: number | null;
  /** The URL the last attempt went to; the hook's URL in the view otherwise. */
  url?: string;
}

/**
 * The reports a delivery's final state owes on NOTIFY: hook.undeliverable after its last
 * attempt (the account's email), hook.gone after a 410 (the registry disables the hook).
 * The report is recorded as due in the same statement as the final state, published at
 * once, and cleared only once NOTIFY acknowledged it; whatever fails in between (NOTIFY
 * full, NATS unreachable, a crash), this sweep publishes it again until NOTIFY takes it.
 * At least once: the message id (`undeliverable-` or `gone-<webhook_id>-<round>`) lets
 * JetStream and the consumers drop a repeat.
 */
@Injectable()
export class DeliveryReports implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('DeliveryReports');
  private readonly ticker = new PeriodicTask('report sweep', this.log, () => this.sweep());

  constructor(
    private readonly store: DeliveryStore,
    private readonly view: RegistryView,
    private readonly publisher: EventPublisher,
  ) {}

  onApplicationBootstrap(): void {
    this.ticker.start(REPORT_SWEEP_INTERVAL_MS);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.ticker.stop();
  }

  /** Publishes a report recorded as due, then clears it. Rejects if NOTIFY did not take it (the sweep retries). */
  async publish({ d, kind, lastStatusCode, url }: Report): Promise<void> {
    const hookUrl = url ?? this.view.hooks.get(d.hook_id)?.url ?? 'https://unknown.invalid/';
    if (kind === 'gone') {
      await this.publisher.publish(
        Subjects.HookGone,
        { hook_id: d.hook_id, client_id: d.account_id, url: hookUrl, webhook_id: d.webhook_id, occurred_at: new Date().toISOString() },
        { msgId: `gone-${d.webhook_id}-${d.round}` },
      );
    } else {
      // A load.started body names its table in `tables` only; a ping names neither (empty, not absent: the event requires both).
      const body = JSON.parse(d.body) as { integration_name?: string; source_root_table_name?: string; tables?: { source_table_name?: string }[] };
      await this.publisher.publish(
        Subjects.HookUndeliverable,
        {
          event_id: d.event_id,
          event_type: d.event_type,
          webhook_id: d.webhook_id,
          hook_id: d.hook_id,
          client_id: d.account_id,
          url: hookUrl,
          integration_name: body.integration_name ?? '',
          table_name: body.source_root_table_name ?? body.tables?.[0]?.source_table_name ?? '',
          attempts: d.round_attempts,
          last_error: d.last_error ?? 'unknown',
          last_status_code: lastStatusCode,
          occurred_at: new Date().toISOString(),
        },
        { msgId: `undeliverable-${d.webhook_id}-${d.round}` },
      );
      this.log.warn(`${d.webhook_id} to hook ${d.hook_id} undeliverable after ${d.round_attempts} attempts: ${d.last_error}`);
    }
    await this.store.reported(d.webhook_id, d.round);
  }

  /**
   * Publishes the reports still due; returns how many NOTIFY took. Page after page while
   * every one goes through; one that fails (NOTIFY full, NATS away) ends this tick, and
   * the next tick tries again. A failure never blocks the other reports of its page.
   */
  async sweep(): Promise<number> {
    let published = 0;
    for (;;) {
      const due = await this.store.dueReports(REPORT_GRACE_MS, BATCH);
      const outcomes = await Promise.allSettled(due.map((d) => this.publish({ d, kind: d.report_due, lastStatusCode: d.last_status_code })));
      const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      published += due.length - failed.length;
      if (failed.length > 0) {
        this.log.warn(`${failed.length} reports still not taken by NOTIFY: ${String(failed[0].reason)}`);
        break;
      }
      if (due.length < BATCH) break;
    }
    if (published > 0) this.log.warn(`published ${published} reports NOTIFY had not acknowledged`);
    return published;
  }
}
