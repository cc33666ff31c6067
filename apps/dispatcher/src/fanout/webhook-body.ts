import { LoadEvent } from '@posthooks/contracts';
import { createHash } from 'node:crypto';

export type LoadEventType = 'table.loaded' | 'table.rejected';

/**
 * The webhook body: Stitch's post-load format (SPEC §5), with `event_type`, `event_id`
 * and `client_id` first. Built once per event, so every hook and every retry gets the
 * same bytes. Absent optional fields get the defaults of SPEC §4.
 */
export function webhookBody(eventType: LoadEventType, eventId: string, e: LoadEvent, now: Date): string {
  const tables = e.tables?.length
    ? e.tables
    : [{ table_name: e.table_name, destination_table_name: e.destination_table_name, num_rows: e.num_rows, num_rows_rejected: e.num_rows_rejected, max_time_extracted: e.max_time_extracted, bookmark_metadata: e.bookmark_metadata }];
  return JSON.stringify({
    event_type: eventType,
    event_id: eventId,
    client_id: e.client_id,
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
 * The Standard Webhooks id of one event to one hook: derived, not random, so every
 * dispatcher replica and every redelivery of the load event names it the same.
 */
export function webhookId(eventId: string, hookId: number): string {
  return `msg_${createHash('sha256').update(`${eventId}\u0000${hookId}`).digest('hex').slice(0, 32)}`;
}

/** Any fixed time: the hash must not change with the time a missing `minimum_sdc_batched_at` defaults to. */
const HASHED_AT = new Date(0);

/**
 * What a load event says, as the hooks would receive it, hashed: the same event published
 * again hashes the same (whenever it is consumed), another body under the same
 * `event_id` does not.
 */
export function eventHash(eventType: LoadEventType, eventId: string, e: LoadEvent): string {
  return createHash('sha256').update(webhookBody(eventType, eventId, e, HASHED_AT)).digest('hex');
}
