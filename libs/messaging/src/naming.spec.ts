import { NatsNaming } from './naming';

describe('NatsNaming', () => {
  it('uses the contract names as they are without a namespace', () => {
    const n = new NatsNaming();
    expect([n.subject('table.loaded'), n.stream('LOADS'), n.deadLetterSubject('table.loaded')]).toEqual(['table.loaded', 'LOADS', 'deadletter.table.loaded']);
    expect(n.logical('table.loaded')).toBe('table.loaded');
  });

  it('prefixes subjects and streams with a namespace and strips it back', () => {
    const n = new NatsNaming('t42');
    expect([n.subject('table.loaded'), n.stream('LOADS'), n.deadLetterSubject('table.loaded')]).toEqual(['t42.table.loaded', 'T42_LOADS', 't42.deadletter.table.loaded']);
    expect(n.logical('t42.table.loaded')).toBe('table.loaded');
    expect(n.logical('table.loaded')).toBeUndefined();
  });

  it('reads a keyed subject (ingest.records.<integration id>) as its contract subject', () => {
    const n = new NatsNaming('t42');
    expect(n.logical('t42.ingest.records.7.52')).toBe('ingest.records');
    expect(n.logical('t42.ingest.records')).toBe('ingest.records');
    expect(n.logical('t42.ingest.recordsx')).toBe('ingest.recordsx');
    expect(new NatsNaming().logical('ingest.records.7')).toBe('ingest.records');
  });

  it('refuses a namespace that would make an invalid subject', () => {
    expect(() => new NatsNaming('a.b')).toThrow(/namespace/);
  });
});
