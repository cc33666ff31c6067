import { parseEvent, Subjects, validateEvent } from './index';

describe('parseEvent', () => {
  it('accepts the event an operator publishes with the NATS CLI', () => {
    const r = parseEvent(Subjects.TableLoaded, '{"client_id":1,"integration_name":"shopify","table_name":"orders","num_rows":100}');
    expect(r).toEqual({ ok: true, event: expect.objectContaining({ client_id: 1, table_name: 'orders', num_rows: 100 }) });
  });

  it('refuses a body that is not JSON, saying so', () => {
    const r = parseEvent(Subjects.TableLoaded, 'hello');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^not JSON/);
  });

  it('names the missing required field', () => {
    const r = parseEvent(Subjects.TableLoaded, '{"client_id":1,"integration_name":"shopify"}');
    expect(!r.ok && r.reason).toContain('table_name');
  });

  it('names the path of an invalid nested field', () => {
    const r = validateEvent(Subjects.TableLoaded, { client_id: 1, integration_name: 'a', table_name: 'b', tables: [{ table_name: 'b', num_rows: -1 }] });
    expect(!r.ok && r.reason).toContain('tables.0.num_rows');
  });

  it('refuses arrays and scalars', () => {
    expect(validateEvent(Subjects.TableLoaded, [1]).ok).toBe(false);
    expect(validateEvent(Subjects.TableLoaded, 3).ok).toBe(false);
  });

  it('drops unknown fields instead of refusing them', () => {
    const r = validateEvent(Subjects.TableLoaded, { client_id: 2, integration_name: 'a', table_name: 'b', extra: true });
    expect(r.ok && 'extra' in r.event).toBe(false);
  });

  describe('ingest.records', () => {
    const base = { integration_id: 1, client_id: 2, destination_id: 3, integration_name: 'shop', request_id: 'r', part: 0, received_at: '2026-11-24T00:00:00Z' };

    it('passes the records through as they are, not copied', () => {
      const records = [{ id: 1, nested: { deep: [1, 2] } }];
      const r = validateEvent(Subjects.IngestRecords, { ...base, records });
      expect(r.ok && r.event.records).toBe(records);
      expect(r.ok && r.event.integration_id).toBe(1);
    });

    it.each([
      [undefined, 'records must be an array'],
      [[], 'records should not be empty'],
      [[{ a: 1 }, 7], 'records[1] must be an object'],
      [[null], 'records[0] must be an object'],
      [[[1]], 'records[0] must be an object'],
    ])('refuses records %j', (records, reason) => {
      const r = validateEvent(Subjects.IngestRecords, { ...base, records });
      expect(!r.ok && r.reason).toContain(reason);
    });

    it('still checks the other fields, and reports every problem', () => {
      const r = validateEvent(Subjects.IngestRecords, { ...base, client_id: 'x', records: 5 });
      expect(!r.ok && r.reason).toMatch(/client_id.*; records must be an array/);
    });
  });
});
