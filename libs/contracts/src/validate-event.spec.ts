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
});
