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
