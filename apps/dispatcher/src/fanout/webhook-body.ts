import { LoadEvent, LoadStartedEvent } from '@posthooks/contracts';
import { createHash } from 'node:crypto';

export type LoadEventType = 'table.loaded' | 'table.rejected';
/** Every event type a hook can subscribe to: the webhook's `event_type`. */
export type HookEventType = LoadEventType | 'load.started';

/**
 * The webhook body: Stitch's post-load format (SPEC §5), with `event_type`, `event_id`,
 * `client_id` and `sequence` first. Built once per event, so every hook and every retry
 * gets the same bytes. Absent optional fields get the defaults of SPEC §4. `sequence` is
 * the event's place in LOADS (see FanoutService); null leaves it out (the hash's body).
 */
export function webhookBody(eventType: LoadEventType, eventId: string, e: LoadEvent, now: Date, sequence: number | null): string {
  const tables = e.tables?.length
    ? e.tables
    : [{ table_name: e.table_name, destination_table_name: e.destination_table_name, num_rows: e.num_rows, num_rows_rejected: e.num_rows_rejected, max_time_extracted: e.max_time_extracted, bookmark_metadata: e.bookmark_metadata }];
  return JSON.stringify({
    event_type: eventType,
    event_id: eventId,
    client_id: e.client_id,
    ...(sequence !== null ? { sequence } : {}),
    version: '1.0',
    minimum_sdc_batched_at: e.minimum_sdc_batched_at ?? now.toISOString(),
    integration_name: e.integration_name,
    new_version: e.new_version ?? false,
    source_root_table_name: e.table_name,
    destination_root_table_name: e.destination_table_name ?? e.table_name,
    table_version: e.table_version ?? 0,
    ...(e.error_message !== undefined ? { error_message: e.error_message } : {}),
    tables: tables.map((t) => ({
      source_table_name: t.table_name,
      destination_table_name: t.destination_table_name ?? t.table_name,
      num_rows: t.num_rows ?? 0,
      num_rows_rejected: t.num_rows_rejected ?? 0,
      max_time_extracted: t.max_time_extracted ?? null,
      bookmark_metadata: t.bookmark_metadata ?? null,
    })),
  });
}

/**
 * The body of a `load.started` webhook (SPEC §5): `event_type`, `event_id`, `client_id`,
 * `sequence`, `integration_name`, `started_at` (default: now) and the tables about to be
 * written (the event's `tables`, else its own table).
 */
export function startedBody(eventId: string, e: LoadStartedEvent, now: Date, sequence: number | null): string {
  const tables = e.tables?.length ? e.tables : [{ table_name: e.table_name, destination_table_name: e.destination_table_name }];
  return JSON.stringify({
    event_type: 'load.started',
    event_id: eventId,
    client_id: e.client_id,
    ...(sequence !== null ? { sequence } : {}),
    integration_name: e.integration_name,
    started_at: e.started_at ?? now.toISOString(),
    tables: tables.map((t) => ({ source_table_name: t.table_name, destination_table_name: t.destination_table_name ?? t.table_name })),
  });
}

/**
 * The Standard Webhooks id of one event to one hook: derived, not random, so every
 * dispatcher replica and every redelivery of the load event names it the same.
 */
export function webhookId(eventId: string, hookId: number): string {
  return `msg_${createHash('sha256').update(`${eventId}\u0000${hookId}`).digest('hex').slice(0, 32)}`;
}

/** Any fixed time: the hash must not change with the time a missing `minimum_sdc_batched_at` or `started_at` defaults to. */
const HASHED_AT = new Date(0);

/**
 * What a load event says, as the hooks would receive it, hashed: the same event published
 * again hashes the same (whenever it is consumed, at whatever place in LOADS: the
 * sequence is left out), another body under the same `event_id` does not. Without a
 * sequence, the body of table.loaded/rejected is the one hashed before there was one, so
 * hashes recorded by an older dispatcher still match.
 */
export function eventHash(eventType: LoadEventType, eventId: string, e: LoadEvent): string;
export function eventHash(eventType: 'load.started', eventId: string, e: LoadStartedEvent): string;
export function eventHash(eventType: HookEventType, eventId: string, e: LoadEvent | LoadStartedEvent): string {
  const body = eventType === 'load.started' ? startedBody(eventId, e as LoadStartedEvent, HASHED_AT, null) : webhookBody(eventType, eventId, e as LoadEvent, HASHED_AT, null);
  return createHash('sha256').update(body).digest('hex');
}
