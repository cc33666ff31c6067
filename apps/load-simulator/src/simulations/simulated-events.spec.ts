import { Subjects, validateEvent } from '@posthooks/contracts';
import { LoadSpec, simulatedEvents } from './simulated-events';

const spec: LoadSpec = { client_id: 7, destination_id: null, integration_name: 'shopify', tables: ['orders', 'customers'], outcome: 'loaded', num_rows: 100 };
const now = new Date('2026-11-24T10:00:00.000Z');

describe('simulatedEvents', () => {
  it('makes one valid table.loaded per table, with the ids given', () => {
    const { subject, events } = simulatedEvents(spec, ['a', 'b'], now);
    expect(subject).toBe(Subjects.TableLoaded);
    expect(events.map((e) => [e.table_name, e.event_id])).toEqual([['orders', 'a'], ['customers', 'b']]);
    expect(events[0]).toEqual({ client_id: 7, integration_name: 'shopify', table_name: 'orders', event_id: 'a', num_rows: 100, num_rows_rejected: 0, minimum_sdc_batched_at: now.toISOString() });
    for (const e of events) expect(validateEvent(subject, { ...e }).ok).toBe(true);
  });

  it('rejects every row of a rejected batch, and names the destination when given', () => {
    const { subject, events } = simulatedEvents({ ...spec, outcome: 'rejected', num_rows: 40, destination_id: 3, tables: ['orders'] }, ['a'], now);
    expect(subject).toBe(Subjects.TableRejected);
    expect(events[0]).toMatchObject({ num_rows: 0, num_rows_rejected: 40, destination_id: 3, error_message: 'simulated rejection' });
    expect(validateEvent(subject, { ...events[0] }).ok).toBe(true);
  });
});
