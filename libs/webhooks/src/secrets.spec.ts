import { createHash } from 'node:crypto';
import { generateApiKey, generateSigningSecret, hashApiKey, safeEqual } from './secrets';

describe('generateSigningSecret', () => {
  it('is whsec_ and the standard base64 of 32 bytes', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
  });

  it('differs every time', () => {
    expect(new Set(Array.from({ length: 100 }, generateSigningSecret)).size).toBe(100);
  });
});

describe('generateApiKey', () => {
  it('is phk_ and the base64url of 32 bytes', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^phk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice('phk_'.length), 'base64url')).toHaveLength(32);
  });

  it('differs every time', () => {
    expect(new Set(Array.from({ length: 100 }, generateApiKey)).size).toBe(100);
  });
});

describe('hashApiKey', () => {
  it('is the sha256 hex of the key', () => {
    expect(hashApiKey('phk_abc')).toBe(createHash('sha256').update('phk_abc').digest('hex'));
    expect(hashApiKey('phk_abc')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not contain the key', () => {
    const key = generateApiKey();
    expect(hashApiKey(key)).not.toContain(key.slice(4, 12));
  });
});

describe('safeEqual', () => {
  it.each([
    ['abc', 'abc', true],
    ['', '', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', 'a', false],
    ['héllo', 'héllo', true],
  ])('%j vs %j is %s', (a, b, expected) => {
    expect(safeEqual(a, b)).toBe(expected);
  });
});
