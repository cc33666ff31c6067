import { hasLongDigitRun, LosslessNumber, needsLossless, parseJson, stringifyJson } from './lossless-json';

describe('parseJson / stringifyJson', () => {
  it.each([
    ['an integer past 2^53', '{"id":9007199254740993}', '{"id":9007199254740993}'],
    ['a negative one', '[-12345678901234567890]', '[-12345678901234567890]'],
    ['a decimal of 17 digits', '{"x":0.12345678901234567}', '{"x":0.12345678901234567}'],
    ['one with an exponent', '{"x":1.2345678901234567e400}', '{"x":1.2345678901234567e400}'],
    ['trailing zeros that say a precision', '{"x":1.0000000000000000}', '{"x":1.0000000000000000}'],
    ['nested deep in arrays and objects', '[{"a":[{"b":[123456789012345678]}]}]', '[{"a":[{"b":[123456789012345678]}]}]'],
    ['a top-level number', '98765432109876543210', '98765432109876543210'],
    ['a key named __proto__', '{"__proto__":12345678901234567890}', '{"__proto__":12345678901234567890}'],
  ])('Test scenario: %s keeps every digit through a round trip', (_what, text, expected) => {
    expect(stringifyJson(parseJson(text))).toBe(expected);
  });

  it('Test scenario: 9007199254740993 and 9007199254740992 stay two values', () => {
    const [a, b] = parseJson('[9007199254740993, 9007199254740992]') as LosslessNumber[];
    expect(a).toBeInstanceOf(LosslessNumber);
    expect(a.text).toBe('9007199254740993');
    expect(b.text).toBe('9007199254740992');
    expect(stringifyJson(a)).not.toBe(stringifyJson(b));
  });

  it.each([
    ['short numbers', '{"a":1,"b":-2.5,"c":1e5,"d":123456789012345}'],
    ['digits inside strings', '{"card":"12345678901234567890","q":"say \\"12345678901234567890\\" \\\\","n":1}'],
    ['a 16-digit run that is not significant', '{"x":0.0000000000000001}'],
    ['escapes before a quote', '{"a":"\\\\","b":12345}'],
  ])('Test scenario: %s parse exactly as JSON.parse does', (_what, text) => {
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['a number as a key', '{12345678901234567890:1}'],
    ['a leading zero', '[012345678901234567890]'],
    ['an unterminated string', '["12345678901234567890'],
    ['trailing garbage', '[12345678901234567890]x'],
  ])('Test scenario: %s is refused as JSON.parse refuses it', (_what, text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(() => parseJson(text)).toThrow(SyntaxError);
  });

  it('Test scenario: a posted string that looks like a marker stays a string', () => {
    const text = '{"s":"~lossless-000000000000000000000000~12345678901234567890"}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('Test scenario: plain JSON.stringify writes a LosslessNumber as its digits in a string, not a marker', () => {
    expect(JSON.stringify({ id: new LosslessNumber('9007199254740993') })).toBe('{"id":"9007199254740993"}');
  });

  it('Test scenario: only JSON numbers make a LosslessNumber', () => {
    expect(() => new LosslessNumber('1,5')).toThrow(TypeError);
    expect(() => new LosslessNumber('"1"')).toThrow(TypeError);
  });

  it('Test scenario: parsing is safe at any depth (JSON.parse is; the restoring walk must be too)', () => {
    let value = parseJson('['.repeat(50_000) + '12345678901234567890' + ']'.repeat(50_000));
    for (let depth = 0; depth < 50_000; depth++) value = (value as unknown[])[0];
    expect(value).toEqual(new LosslessNumber('12345678901234567890'));
  });

  it.each([
    ['9007199254740993', true],
    ['900719925474099', false],
    ['-0.000000000000000012', false],
    ['1.0000000000000000', true],
    ['1234567890123456e5', true],
    ['123456789012345e99999', false],
  ])('Test scenario: needsLossless(%s) is %s', (text, expected) => {
    expect(needsLossless(text)).toBe(expected);
  });
});

describe('hasLongDigitRun', () => {
  it('Test scenario: finds a run of 16 digits at any offset and length of text, and nothing shorter', () => {
    for (let before = 0; before < 40; before++) {
      for (const after of [0, 1, 7, 16, 33]) {
        for (const run of [15, 16, 17, 40]) {
          const text = `${'x1'.repeat(before).slice(0, before)}${'7'.repeat(run)}${'a'.repeat(after)}`;
          expect([before, after, run, hasLongDigitRun(text)]).toEqual([before, after, run, /\d{16}/.test(text)]);
        }
      }
    }
    expect(hasLongDigitRun('{"a":123456789012345,"b":123456789012345}')).toBe(false);
    expect(hasLongDigitRun('')).toBe(false);
  });
});
