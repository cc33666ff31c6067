import { MAX_EVENT_BYTES, MAX_EVENT_DEPTH, nestsDeeperThan, parseEvent, Subjects, validateEvent } from './index';

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

  describe('bounds, checked before anything recursive sees the payload', () => {
    const event = (bookmark: string) => `{"client_id":1,"integration_name":"shopify","table_name":"orders","bookmark_metadata":${bookmark}}`;
    const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

    it('refuses a table.loaded whose bookmark_metadata nests 5,000 deep, without throwing (it blew the stack)', () => {
      const r = parseEvent(Subjects.TableLoaded, Buffer.from(event(nested(5000))));
      expect(r).toEqual({ ok: false, reason: `nested deeper than ${MAX_EVENT_DEPTH} levels` });
    });

    it('takes 64 levels in all, and refuses 65', () => {
      // The event object is level 1, so bookmark_metadata may nest 63 deep.
      expect(parseEvent(Subjects.TableLoaded, event(nested(63))).ok).toBe(true);
      expect(parseEvent(Subjects.TableLoaded, event(nested(64))).ok).toBe(false);
    });

    it('refuses a body over the size bound unread', () => {
      const r = parseEvent(Subjects.TableLoaded, Buffer.alloc(MAX_EVENT_BYTES + 1, 0x20));
      expect(!r.ok && r.reason).toMatch(/^too large/);
    });

    it('refuses a deep value handed to validateEvent (a publisher), walking it without recursion', () => {
      let deep: Record<string, unknown> = {};
      for (let i = 0; i < 100_000; i++) deep = { a: deep };
      const r = validateEvent(Subjects.TableLoaded, { client_id: 1, integration_name: 'a', table_name: 'b', bookmark_metadata: deep });
      expect(!r.ok && r.reason).toMatch(/nested deeper/);
    });

    it.each([
      ['brackets inside strings do not count', '{"a":"[[[[[[[[[["}', 2, false],
      ['an escaped quote does not end the string', '{"a":"\\"[[[["}', 2, false],
      ['an escaped backslash before the closing quote', '{"a":"\\\\","b":[[1]]}', 2, true],
      ['arrays count like objects', '[[[1]]]', 3, false],
      ['one level too many', '[[[[1]]]]', 3, true],
      ['multi-byte characters never count as brackets', '{"é€😀":[{"ü":"["}]}', 3, false],
      ['depth goes back down after a closed object', '{"a":{"b":{}},"c":{"d":{}}}', 3, false],
    ])('Test scenario: %s', (_, text, limit, deeper) => {
      expect(nestsDeeperThan(text, limit)).toBe(deeper);
      expect(nestsDeeperThan(Buffer.from(text), limit)).toBe(deeper);
    });
  });
});
