import { Injectable, Logger } from '@nestjs/common';
import { HookTestEvent, LoadEvent, LoadStartedEvent } from '@posthooks/contracts';
import { JetStreamContext } from '@posthooks/messaging';
import { hookSelects, RegistryView, settingsOf } from '@posthooks/registry-view';
import { DeliveryStore, NewDelivery, Recorded } from '../delivery/delivery-store';
import { DeliveryScheduler } from '../delivery/delivery-scheduler';
import { eventIdConflicts, eventsFannedOut } from '../metrics';
import { eventHash, HookEventType, LoadEventType, startedBody, webhookBody, webhookId } from './webhook-body';

/**
 * Turns one load event into one delivery per hook it fires, each its own unit of work,
 * so a dead endpoint never holds up the others. A delivery is recorded, due at once,
 * before the load event is acknowledged; the scheduler is woken to claim it. Recording
 * is all the fan-out does, so LOADS is drained as fast as Postgres takes the rows,
 * whatever the endpoints do, and which account goes first is the claim's to decide.
 * Idempotent: a redelivered load event finds its deliveries recorded.
 *
 * Each hook gets only the events its settings select (SPEC §9). Every body carries the
 * event's LOADS stream sequence as `sequence`: LOADS stores events in the order they
 * reached it, so the sequence increases per (account, integration, table) in that order
 * (and across everything else too, which a receiver does not need). It is written into
 * the stored body, so a retry, a redelivery or a recover carries the original.
 */
@Injectable()
export class FanoutService {
  private readonly log = new Logger('Fanout');

  constructor(
    private readonly view: RegistryView,
    private readonly store: DeliveryStore,
    private readonly scheduler: DeliveryScheduler,
  ) {}

  /** `table.loaded` and `table.rejected`. */
  fanOut(event: LoadEvent, ctx: JetStreamContext): Promise<number> {
    const eventType = ctx.subject as LoadEventType;
    const eventId = event.event_id ?? ctx.fallbackEventId;
    return this.fanOutAs(eventType, eventId, event, ctx, () => ({ body: webhookBody(eventType, eventId, event, new Date(), ctx.streamSequence), hash: eventHash(eventType, eventId, event) }));
  }

  /** `load.started`. */
  fanOutStarted(event: LoadStartedEvent, ctx: JetStreamContext): Promise<number> {
    const eventId = event.event_id ?? ctx.fallbackEventId;
    return this.fanOutAs('load.started', eventId, event, ctx, () => ({ body: startedBody(eventId, event, new Date(), ctx.streamSequence), hash: eventHash('load.started', eventId, event) }));
  }

  private async fanOutAs(eventType: HookEventType, eventId: string, event: LoadEvent | LoadStartedEvent, ctx: JetStreamContext, build: () => { body: string; hash: string }): Promise<number> {
    const selected = { event_type: eventType, integration_name: event.integration_name, table_name: event.table_name };
    const hooks = this.view.hooksToNotify(event.client_id, event.destination_id).filter((h) => hookSelects(settingsOf(h), selected));
    eventsFannedOut.inc({ event_type: eventType });
    if (hooks.length === 0) return 0;

    const { body, hash } = build();
    const deliveries: NewDelivery[] = hooks.map((h) => ({ webhook_id: webhookId(eventId, h.hook_id), hook_id: h.hook_id, account_id: h.account_id, event_id: eventId, event_type: eventType, body, event_hash: hash }));
    const recorded = await this.request(deliveries);
    const conflicts = deliveries.filter((_, i) => recorded[i] === 'conflict');
    if (conflicts.length > 0) {
      // SPEC §4: event_id is the idempotency key, so this event is not delivered; but a
      // publisher reusing an id for another load is a bug on its side worth seeing.
      eventIdConflicts.inc();
      this.log.warn(`${eventType} ${eventId} (LOADS #${ctx.streamSequence}) has the id of an event delivered before with another body: not delivered again to hooks ${conflicts.map((d) => d.hook_id).join(', ')}`);
    }
    return deliveries.length;
  }

  /** A `ping` to one hook, delivered, signed, retried and logged like any webhook. */
  async ping(test: HookTestEvent): Promise<void> {
    const hook = this.view.hooks.get(test.hook_id);
    if (!hook || hook.account_id !== test.client_id) return; // deleted meanwhile: nothing to ping
    const body = JSON.stringify({ event_type: 'ping', event_id: test.event_id, client_id: test.client_id, hook_id: test.hook_id, sent_at: test.requested_at });
    await this.request([{ webhook_id: webhookId(test.event_id, hook.hook_id), hook_id: hook.hook_id, account_id: hook.account_id, event_id: test.event_id, event_type: 'ping', body, event_hash: null }]);
  }

  /** Records the deliveries, due now, and wakes the scheduler if any is new. */
  private async request(deliveries: NewDelivery[]): Promise<Recorded[]> {
    const recorded = await Promise.all(deliveries.map((d) => this.store.insert(d)));
    if (recorded.includes('new')) this.scheduler.wake();
    return recorded;
  }
}
