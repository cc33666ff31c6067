import { storableText } from './storable-text';

describe('storableText', () => {
  it.each([
    ['plain text stays as it is', 'thanks', 'thanks'],
    ['NUL becomes U+FFFD', 'a\u0000b\u0000', 'a\ufffdb\ufffd'],
    ['a surrogate pair (an emoji) stays', 'ok \u{1f600}', 'ok \u{1f600}'],
    ['bytes that were not UTF-8 (already U+FFFD once decoded) stay', Buffer.from([0x6f, 0xff, 0xc3]).toString('utf8'), 'o\ufffd\ufffd'],
  ])('Test scenario: %s', (_, input, expected) => {
    expect(storableText(input)).toBe(expected);
  });
});
