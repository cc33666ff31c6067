import { LoadEvent, LoadStartedEvent } from '@posthooks/contracts';
import { createHash } from 'node:crypto';
import { eventHash, startedBody, webhookBody, webhookId } from './webhook-body';

const event = (extra: Partial<LoadEvent> = {}) => Object.assign(new LoadEvent(), { client_id: 1, integration_name: 'shopify', table_name: 'orders', num_rows: 100, ...extra });
const now = new Date('2026-11-24T10:00:00.000Z');

describe('webhookBody', () => {
  it('is the body of SPEC §5 for the minimal `nats pub` event', () => {
    expect(webhookBody('table.loaded', 'ev-1', event(), now, 42)).toBe(
      JSON.stringify({
        event_type: 'table.loaded',
        event_id: 'ev-1',
        client_id: 1,
        sequence: 42,
        version: '1.0',
        minimum_sdc_batched_at: '2026-11-24T10:00:00.000Z',
        integration_name: 'shopify',
        new_version: false,
        source_root_table_name: 'orders',
        destination_root_table_name: 'orders',
        table_version: 0,
        tables: [{ source_table_name: 'orders', destination_table_name: 'orders', num_rows: 100, num_rows_rejected: 0, max_time_extracted: null, bookmark_metadata: null }],
      }),
    );
  });

  it('keeps what the event says and lists subtables', () => {
    const body = JSON.parse(
      webhookBody('table.rejected', 'ev-2', event({ destination_table_name: 'shop_orders', table_version: 3, new_version: true, error_message: 'bad type', minimum_sdc_batched_at: '2026-01-01T00:00:00.000Z', tables: [{ table_name: 'orders' }, { table_name: 'orders__lines', num_rows: 7 }] }), now, 1),
    );
    expect(body).toMatchObject({ event_type: 'table.rejected', destination_root_table_name: 'shop_orders', table_version: 3, new_version: true, error_message: 'bad type', minimum_sdc_batched_at: '2026-01-01T00:00:00.000Z' });
    expect(body.tables.map((t: { source_table_name: string; num_rows: number }) => [t.source_table_name, t.num_rows])).toEqual([
      ['orders', 0],
      ['orders__lines', 7],
    ]);
  });
});

describe('startedBody', () => {
  const started = (extra: Partial<LoadStartedEvent> = {}) => Object.assign(new LoadStartedEvent(), { client_id: 1, integration_name: 'shopify', table_name: 'orders', ...extra });

  it('is the load.started body of SPEC §5 for the minimal event: its own table, started now', () => {
    expect(startedBody('ev-3', started(), now, 7)).toBe(
      JSON.stringify({
        event_type: 'load.started',
        event_id: 'ev-3',
        client_id: 1,
        sequence: 7,
        integration_name: 'shopify',
        started_at: '2026-11-24T10:00:00.000Z',
        tables: [{ source_table_name: 'orders', destination_table_name: 'orders' }],
      }),
    );
  });

  it('keeps started_at and lists the tables of `tables`, nothing else of the event', () => {
    const body = JSON.parse(startedBody('ev-4', started({ started_at: '2026-01-01T00:00:00.000Z', destination_table_name: 'x', tables: [{ table_name: 'orders', destination_table_name: 'shop_orders' }, { table_name: 'lines' }] }), now, 8));
    expect(body).toEqual({
      event_type: 'load.started',
      event_id: 'ev-4',
      client_id: 1,
      sequence: 8,
      integration_name: 'shopify',
      started_at: '2026-01-01T00:00:00.000Z',
      tables: [
        { source_table_name: 'orders', destination_table_name: 'shop_orders' },
        { source_table_name: 'lines', destination_table_name: 'lines' },
      ],
    });
  });
});

describe('webhookId', () => {
  it('is the same for the same event and hook, different otherwise', () => {
    expect(webhookId('ev-1', 1)).toBe(webhookId('ev-1', 1));
    expect(new Set([webhookId('ev-1', 1), webhookId('ev-1', 2), webhookId('ev-2', 1)]).size).toBe(3);
    expect(webhookId('ev-1', 1)).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});

describe('eventHash', () => {
  it.each<[string, Partial<LoadEvent>, Partial<LoadEvent>, boolean]>([
    ['the same event published again (no minimum_sdc_batched_at: defaulted to a different now each time)', {}, {}, true],
    ['the same fields in another order', { num_rows: 100, table_version: 2 }, { table_version: 2, num_rows: 100 }, true],
    ['another row count', { num_rows: 1 }, { num_rows: 2 }, false],
    ['another table', { table_name: 'orders' }, { table_name: 'customers' }, false],
    ['another bookmark', { bookmark_metadata: { a: 1 } }, { bookmark_metadata: { a: 2 } }, false],
  ])('Test scenario: %s: same hash %s', (_, first, second, same) => {
    expect(eventHash('table.loaded', 'ev-1', event(first)) === eventHash('table.loaded', 'ev-1', event(second))).toBe(same);
  });

  it('Test scenario: the hash is the one an older dispatcher recorded (a body without sequence), whatever the sequence', () => {
    expect(eventHash('table.loaded', 'ev-1', event())).toBe(createHash('sha256').update(webhookBody('table.loaded', 'ev-1', event(), new Date(0), null)).digest('hex'));
    expect(JSON.parse(webhookBody('table.loaded', 'ev-1', event(), now, null))).not.toHaveProperty('sequence');
  });

  it('Test scenario: load.started published again hashes the same (started_at defaulted), another table does not', () => {
    const started = (extra: Partial<LoadStartedEvent> = {}) => Object.assign(new LoadStartedEvent(), { client_id: 1, integration_name: 'shopify', table_name: 'orders', ...extra });
    expect(eventHash('load.started', 'ev-1', started())).toBe(eventHash('load.started', 'ev-1', started()));
    expect(eventHash('load.started', 'ev-1', started())).not.toBe(eventHash('load.started', 'ev-1', started({ table_name: 'customers' })));
    expect(eventHash('load.started', 'ev-1', started({ started_at: '2026-01-01T00:00:00.000Z' }))).not.toBe(eventHash('load.started', 'ev-1', started({ started_at: '2026-01-02T00:00:00.000Z' })));
  });

  it('Test scenario: the same body as table.loaded and table.rejected hashes differently', () => {
    expect(eventHash('table.loaded', 'ev-1', event())).not.toBe(eventHash('table.rejected', 'ev-1', event()));
  });
});
