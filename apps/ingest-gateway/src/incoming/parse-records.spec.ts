import { isJsonContentType, parseRecords } from './parse-records';

describe('parseRecords', () => {
  it('takes an object or an array of objects', () => {
    expect(parseRecords(Buffer.from('{"id":1}'))).toEqual({ ok: true, records: [{ id: 1 }] });
    expect(parseRecords(Buffer.from('[{"id":1},{"id":2}]'))).toEqual({ ok: true, records: [{ id: 1 }, { id: 2 }] });
  });

  it.each([
    ['3', /object or an array/],
    ['"x"', /object or an array/],
    ['null', /object or an array/],
    ['[1]', /element 0/],
    ['[{"a":1},[]]', /element 1/],
    ['{"a":', /not valid JSON/],
    ['', /not valid JSON/],
  ])('refuses %s', (body, error) => {
    const r = parseRecords(Buffer.from(body));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(error);
  });

  it('refuses invalid UTF-8 rather than replacing it', () => {
    const r = parseRecords(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(r).toEqual({ ok: false, error: 'body is not valid UTF-8' });
  });

  it('refuses what Postgres cannot store or a loader cannot walk: NUL, lone surrogates, deep nesting', () => {
    expect(parseRecords(Buffer.from('{"a":"x\\u0000y"}'))).toEqual({ ok: false, error: expect.stringContaining('NUL character') });
    expect(parseRecords(Buffer.from('[{"a\\u0000":1}]'))).toEqual({ ok: false, error: expect.stringContaining('NUL character') });
    expect(parseRecords(Buffer.from('{"a":"\\ud800"}'))).toEqual({ ok: false, error: expect.stringContaining('lone surrogate') });
    expect(parseRecords(Buffer.from(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`))).toEqual({ ok: false, error: expect.stringContaining('nested deeper') });
  });

  it('takes field names that are special in JavaScript as plain field names', () => {
    expect(parseRecords(Buffer.from('{"constructor":"Ferrari","prototype":1}'))).toEqual({ ok: true, records: [{ constructor: 'Ferrari', prototype: 1 }] });
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/vnd.api+json', true],
    ['text/plain', false],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('%s → %s', (header, expected) => expect(isJsonContentType(header)).toBe(expected));
});
